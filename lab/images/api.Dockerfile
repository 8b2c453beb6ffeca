# Stand-in for ghcr.io/product-science/api: the Admin API simulator, the PoC callback server and the public API.
ARG BASE=gonka-lab/trixie:base
FROM ${BASE}
COPY jsonhttp.py admin_api.py gonka_api.py /opt/standin/
WORKDIR /root
EXPOSE 9000 9100 9200
CMD ["python3", "/opt/standin/gonka_api.py"]
