# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Offline replacement for the get-pip bootstrap script that ansible-test downloads.

ansible-test creates each sanity-test virtualenv without pip and fetches get-pip.py from
a host this project cannot reach. The Makefile places this file where ansible-test
caches that script (~/.ansible/test/cache/get_pip_<version>.py, under the HOME the
Makefile gives ansible-test): it installs pip from the interpreter's own ensurepip
wheel, then the requested pip version from the package index, like get-pip.py does.
"""

import subprocess
import sys

GET_PIP_ONLY_OPTIONS = ("--no-setuptools", "--no-wheel")


def main():
    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY_OPTIONS]
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet"] + args)


if __name__ == "__main__":
    main()
