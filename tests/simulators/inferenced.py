# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stand-in for the ``inferenced`` CLI inside the api image, for the two commands the
network_node role runs there (docs/conformance.md R4, R10.9; the seed quickstart steps 9 and 10):

* ``inferenced keys show NAME --keyring-backend file [-a]``: the key's address (rc 0), or
  "Error: NAME is not a valid name or address: key not found" (rc 1). The file keyring asks for
  its passphrase on stdin; a wrong one is "Error: aborted" (rc 1).
* ``inferenced keys add NAME --keyring-backend file``: reads the passphrase twice from stdin and
  writes the key to <home>/keyring-file/NAME.info; a name that exists asks to override it and,
  without a "y", ends with "Error: aborted" (rc 1) - running it twice never replaces a key.
* ``inferenced register-new-participant PUBLIC_URL ACCOUNT_PUBKEY --node-address SEED_API_URL``
  (docs/conformance.md R4.1-R4.3): reads the consensus key from the chain node's /status at
  $DAPI_CHAIN_NODE__URL with one 10-second call and no retry (no node: an error, rc 1), POSTs
  the participant to the seed's public API (/v1/participants), then polls
  SEED/v1/participants/ADDRESS every 2 s for 30 s (SIM_PARTICIPANT_WAIT): when listed it prints
  "Found participant with pubkey: ...", otherwise a warning - and exits 0 either way.

Addresses are derived from the public key as ``gonka1`` + 38 hex digits of its sha256 (the real
CLI uses bech32 of the key's hash; what matters here is one stable address per key). Every call
is appended to <home>/standin-calls.log so tests can count them. <home> is --home, default
/root/.inference (the directory the compose file mounts into the api container).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
import urllib.request


def address_of(pubkey):
    return "gonka1" + hashlib.sha256(pubkey.encode()).hexdigest()[:38]


def option(args, name, default=None):
    for index, arg in enumerate(args):
        if arg == name and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return default


def positional(args):
    values, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg.startswith("--"):
            skip = "=" not in arg and arg not in ("--yes",)
        elif arg != "-a":
            values.append(arg)
    return values


def fail(message):
    sys.stderr.write("Error: %s\n" % message)
    return 1


def keys(home, args):
    action, name = args[0], positional(args[1:])[0]
    path = os.path.join(home, "keyring-file", "%s.info" % name)
    lines = sys.stdin.read().splitlines()
    passphrase = lines[0] if lines else ""
    digest = hashlib.sha256(passphrase.encode()).hexdigest()
    if action == "show":
        if not os.path.exists(path):
            return fail("%s is not a valid name or address: key not found" % name)
        with open(path, encoding="utf-8") as handle:
            key = json.load(handle)
        if key["passphrase_sha256"] != digest:
            return fail("aborted")
        print(key["address"] if "-a" in args else "- address: %s\n  name: %s\n  pubkey: '%s'\n  type: local"
              % (key["address"], name, key["pubkey"]))
        return 0
    if action == "add":
        if os.path.exists(path):
            sys.stdout.write("override the existing name %s [y/N]: " % name)
            return fail("aborted")
        if len(lines) < 2 or lines[0] != lines[1] or len(passphrase) < 8:
            return fail("passphrases do not match or are shorter than 8 characters")
        pubkey = hashlib.sha256(os.urandom(32)).hexdigest()
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as handle:
            json.dump({"name": name, "pubkey": pubkey, "address": address_of(pubkey), "passphrase_sha256": digest}, handle)
        os.chmod(path, 0o600)
        print("- address: %s\n  name: %s\n  pubkey: '%s'\n  type: local\n\n**Important** write this mnemonic phrase "
              "in a safe place.\nstand in mnemonic words" % (address_of(pubkey), name, pubkey))
        return 0
    return fail("unknown keys command %s" % action)


def _get_json(url, timeout):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


def register(args):
    url, pubkey = positional(args)[:2]
    seed = option(args, "--node-address").rstrip("/")
    chain = os.environ.get("DAPI_CHAIN_NODE__URL", "")
    if not chain:
        return fail("DAPI_CHAIN_NODE__URL environment variable is not set")
    try:
        status = _get_json(chain.rstrip("/") + "/status", 10)
        consensus_key = status["result"]["validator_info"]["pub_key"]["value"]
    except (OSError, ValueError, KeyError) as exc:
        return fail("failed to auto-fetch consensus key: node RPC endpoint not responding: %s" % exc)
    body = json.dumps({"url": url, "pub_key": pubkey, "validator_key": consensus_key}).encode()
    request = urllib.request.Request(seed + "/v1/participants", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()
    print("Participant registration successful.")
    address = address_of(pubkey)
    participant_url = "%s/v1/participants/%s" % (seed, address)
    deadline = time.time() + float(os.environ.get("SIM_PARTICIPANT_WAIT", "30"))
    while time.time() < deadline:
        time.sleep(min(2.0, max(0.0, deadline - time.time())))
        try:
            found = _get_json(participant_url, 5)
        except (OSError, ValueError):
            continue
        if found.get("pubkey"):
            print("Found participant with pubkey: %s (balance: %s)" % (found["pubkey"], found.get("balance", 0)))
            print("Participant is now available at %s" % participant_url)
            return 0
    print("Warning: timeout waiting for participant to be available")
    print("You can manually check your participant at %s" % participant_url)
    return 0


def main(argv=None):
    args = list(sys.argv[1:] if argv is None else argv)
    home = option(args, "--home", "/root/.inference")
    if "--home" in args:
        del args[args.index("--home"):args.index("--home") + 2]
    os.makedirs(home, exist_ok=True)
    with open(os.path.join(home, "standin-calls.log"), "a", encoding="utf-8") as log:
        log.write(" ".join(arg for arg in args) + "\n")
    if args[:1] == ["keys"] and len(args) > 2:
        return keys(home, args[1:])
    if args[:1] == ["register-new-participant"]:
        return register(args[1:])
    return fail("stand-in: unsupported command %s" % " ".join(args[:2]))


if __name__ == "__main__":
    sys.exit(main())
