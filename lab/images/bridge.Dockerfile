# Stand-in for ghcr.io/product-science/bridge: its data directories and JWT secret, no Ethereum chain.
ARG BASE=gonka-lab/trixie:base
FROM ${BASE}
COPY jsonhttp.py chain_node.py /opt/standin/
CMD ["python3", "/opt/standin/chain_node.py", "bridge"]
