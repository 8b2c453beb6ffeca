# Stand-in for ghcr.io/product-science/proxy: real nginx in front of api (9000), node (26657) and explorer.
ARG NGINX=nginx:1.28.0
FROM ${NGINX}
COPY proxy-nginx.conf /etc/nginx/nginx.conf
