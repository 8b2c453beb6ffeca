# Real nginx from Debian, tagged like the image the ML node compose file uses (nginx:1.28.0).
# Like the official image: configuration at /etc/nginx/nginx.conf, logs to the container's output.
ARG BASE=gonka-lab/trixie:base
FROM ${BASE}
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx >/dev/null \
 && rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled/default \
 && ln -sf /dev/stdout /var/log/nginx/access.log && ln -sf /dev/stderr /var/log/nginx/error.log
EXPOSE 80
STOPSIGNAL SIGQUIT
CMD ["nginx", "-g", "daemon off;"]
