# Stand-in for ghcr.io/product-science/proxy: real nginx in front of api (9000), node (26657) and
# explorer, configured at start by proxy-entrypoint.sh from NGINX_MODE and SERVER_NAME like the
# real entrypoint (HTTP on 80, HTTPS on 443 with the certificate in /etc/nginx/ssl).
ARG NGINX=nginx:1.28.0
FROM ${NGINX}
# True: the release's proxy has NGINX_MODE (0.2.9); False: HTTP only (launch)
ARG PROXY_HTTPS=False
ENV PROXY_HTTPS=${PROXY_HTTPS}
COPY proxy-nginx.conf.template /etc/nginx/proxy-nginx.conf.template
COPY proxy-entrypoint.sh /proxy-entrypoint.sh
EXPOSE 80 443
# run by sh: the lab copies build files without their mode
ENTRYPOINT ["/bin/sh", "/proxy-entrypoint.sh"]
CMD ["nginx", "-g", "daemon off;"]
