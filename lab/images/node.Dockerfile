# Stand-in for ghcr.io/product-science/inferenced: CometBFT /status on 26657 and the p2p port 26656.
# The compose file runs `sh ./init-docker.sh` in the working directory, as with the real image.
ARG BASE=gonka-lab/trixie:base
FROM ${BASE}
COPY jsonhttp.py chain_node.py /opt/standin/
WORKDIR /root
# The lab's realistic delay: after each start the node syncs for 20 s (catching_up true) and the
# api serves nothing until it has caught up (docs/conformance.md R3.1).
ENV SIM_SYNC_SECONDS=20
RUN printf '#!/bin/sh\nexec python3 /opt/standin/chain_node.py node\n' > /root/init-docker.sh
EXPOSE 26656 26657
CMD ["sh", "./init-docker.sh"]
