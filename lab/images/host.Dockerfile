# A fresh Debian trixie server: systemd as PID 1, sshd, python3. Nothing of Gonka, no Docker.
# Each host makes its own SSH host keys at its first boot.
ARG BASE=gonka-lab/trixie:base
FROM ${BASE}
RUN systemctl enable ssh.service \
 && systemctl mask getty@tty1.service serial-getty@console.service systemd-firstboot.service \
 && : > /etc/machine-id \
 && rm -f /etc/ssh/ssh_host_*_key* \
 && printf '[Service]\nExecStartPre=\nExecStartPre=/usr/bin/ssh-keygen -A\nExecStartPre=/usr/sbin/sshd -t\n' > /tmp/keygen.conf \
 && mkdir -p /etc/systemd/system/ssh.service.d && mv /tmp/keygen.conf /etc/systemd/system/ssh.service.d/keygen.conf
STOPSIGNAL SIGRTMIN+3
CMD ["/sbin/init"]
