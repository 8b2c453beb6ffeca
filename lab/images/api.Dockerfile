# Stand-in for ghcr.io/product-science/api: the Admin API simulator, the PoC callback server, the
# public API, and the inferenced CLI the role runs in it (warm key, participant registration).
ARG BASE=gonka-lab/trixie:base
FROM ${BASE}
COPY jsonhttp.py admin_api.py gonka_api.py inferenced.py chain_node.py /opt/standin/
RUN printf '#!/bin/sh\nexec python3 /opt/standin/inferenced.py "$@"\n' > /usr/local/bin/inferenced \
    && chmod 0755 /usr/local/bin/inferenced
WORKDIR /root
EXPOSE 9000 9100 9200
CMD ["python3", "/opt/standin/gonka_api.py"]
# How the api keeps its nodes across restarts: the release catalog's api_node_store (lab.py passes it).
ARG API_NODE_STORE=config
ENV SIM_API_NODE_STORE=${API_NODE_STORE}
# Releases with versiond (0.2.14): /versions and the NodeManager port (lab.py passes whether the release lists versiond).
ARG API_DEVSHARD=false
ENV SIM_API_DEVSHARD=${API_DEVSHARD}
