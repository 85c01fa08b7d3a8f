"""The `post-receive` hook that `aichor vcs install-hook` writes into a bare repository.

The hook is a standalone Python script (standard library only). It reads git's
`<old> <new> <ref>` lines, lists the new commits with `git rev-list` (argv lists, never a
shell), and POSTs one signed delivery per updated ref to the server's `git` webhook. Its URL
and the project's secret are read from `hooks/aichor-webhook.json` (mode 0600), never pasted
into the script's code. A push is never refused: the hook only reports what the server said.
"""

from __future__ import annotations

MARKER = "aichor post-receive hook"
CONFIG_NAME = "aichor-webhook.json"

HOOK = '''#!{python}
"""{marker}: tells the aichor server about pushed commits (installed by `aichor vcs install-hook`).

The server's answer (an experiment per `aichor[<manifest>]: ...` commit) is printed to the pusher.
"""

import hashlib
import hmac
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request

CONFIG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "{config}")
MAX_COMMITS = 200


def git(*args):
    done = subprocess.run(["git", *args], check=True, capture_output=True, text=True)
    return done.stdout


def new_commits(old, new, ref):
    if set(new) == {{"0"}}:
        return []
    if set(old) == {{"0"}}:
        refs = git("for-each-ref", "--format=%(refname)", "refs/heads", "refs/tags").split()
        others = [other for other in refs if other != ref]
        args = ["rev-list", "--reverse", "--max-count=%d" % MAX_COMMITS, new, "--not", *others]
    else:
        args = ["rev-list", "--reverse", "--max-count=%d" % MAX_COMMITS, old + ".." + new]
    return git(*args).split()


def describe(sha):
    name, email, message = git("show", "-s", "--format=%an%x00%ae%x00%B", sha).split("\\0", 2)
    return {{"id": sha, "message": message, "author": {{"name": name, "email": email}}}}


def deliver(config, line):
    old, new, ref = line.split(maxsplit=2)
    commits = [describe(sha) for sha in new_commits(old, new, ref)]
    if not commits:
        return
    body = json.dumps({{"ref": ref, "commits": commits}}).encode()
    secret = config["secret"].encode()
    signature = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    delivery = hashlib.sha256(line.encode()).hexdigest()
    request = urllib.request.Request(
        config["url"],
        data=body,
        method="POST",
        headers={{
            "Content-Type": "application/json",
            "X-Aichor-Signature-256": signature,
            "X-Aichor-Delivery": delivery,
        }},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            answer = json.load(response)
    except urllib.error.HTTPError as error:
        print("aichor: the server refused the push notice (%s): %s"
              % (error.code, error.read().decode(errors="replace")))
        return
    except (urllib.error.URLError, OSError) as error:
        print("aichor: cannot reach %s: %s" % (config["url"], error))
        return
    if answer.get("duplicate_delivery"):
        print("aichor: already received; nothing new started")
    for commit in answer.get("commits", []):
        print("aichor: %s %s" % (commit["sha"][:12], commit["result"]))


def main():
    with open(CONFIG) as handle:
        config = json.load(handle)
    for line in sys.stdin:
        if line.strip():
            try:
                deliver(config, line.strip())
            except subprocess.CalledProcessError as error:
                print("aichor: git failed: %s" % (error.stderr or error))
    return 0


if __name__ == "__main__":
    sys.exit(main())
'''


def hook_text(python: str) -> str:
    """The hook script, run by `python` (an absolute interpreter path)."""
    return HOOK.format(python=python, marker=MARKER, config=CONFIG_NAME)
