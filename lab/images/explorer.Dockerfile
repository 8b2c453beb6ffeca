# Stand-in for ghcr.io/product-science/explorer: a page on 5173.
ARG BASE=gonka-lab/trixie:base
FROM ${BASE}
COPY jsonhttp.py chain_node.py /opt/standin/
EXPOSE 5173
CMD ["python3", "/opt/standin/chain_node.py", "explorer"]
