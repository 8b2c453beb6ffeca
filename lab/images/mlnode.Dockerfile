# Stand-in for ghcr.io/product-science/mlnode: management API on 8080, inference API on 5000.
# `uvicorn` runs the stand-in, so the compose file's command stays what production runs.
ARG BASE=gonka-lab/trixie:base
FROM ${BASE}
COPY jsonhttp.py mlnode.py /opt/standin/
RUN printf '#!/bin/sh\nexec python3 /opt/standin/mlnode.py "$@"\n' > /usr/local/bin/uvicorn \
 && chmod 0755 /usr/local/bin/uvicorn
WORKDIR /app
EXPOSE 5000 8080
CMD ["uvicorn", "api.app:app", "--host=0.0.0.0", "--port=8080"]
