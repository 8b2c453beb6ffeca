# Stand-in for ghcr.io/product-science/tmkms-softsign-with-keygen: a consensus key under /root/.tmkms.
ARG BASE=gonka-lab/trixie:base
FROM ${BASE}
COPY jsonhttp.py chain_node.py /opt/standin/
CMD ["python3", "/opt/standin/chain_node.py", "tmkms"]
