# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""For the tests and bench/ that start stand-ins on loopback: a free port."""

from __future__ import annotations

import socket


def free_port():
    """A loopback port nothing listens on (for a stand-in to bind, or to be refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
