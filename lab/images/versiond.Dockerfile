# Stand-in for ghcr.io/product-science/versiond (0.2.14): /healthz on 8080 and the oracle poll.
ARG BASE=gonka-lab/trixie:base
FROM ${BASE}
COPY jsonhttp.py versiond.py /opt/standin/
EXPOSE 8080
CMD ["python3", "/opt/standin/versiond.py"]
