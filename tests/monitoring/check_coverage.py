# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every alert of a rendered rule file is tested firing and not firing by the promtool test files.

    python check_coverage.py RULES.yml TEST.yml [TEST.yml ...]

Fails (exit 1) naming each alert without a firing case (non-empty exp_alerts) or without a quiet
case (empty exp_alerts), and each test naming an alert the rule file does not have.
"""

import sys

import yaml


def main(argv):
    with open(argv[0], encoding="utf-8") as handle:
        alerts = [rule["alert"] for group in yaml.safe_load(handle)["groups"] for rule in group["rules"]
                  if "alert" in rule]
    fired, quiet = set(), set()
    for path in argv[1:]:
        with open(path, encoding="utf-8") as handle:
            for test in yaml.safe_load(handle)["tests"]:
                for case in test.get("alert_rule_test") or []:
                    (fired if case.get("exp_alerts") else quiet).add(case["alertname"])
    problems = ["%s: no case makes it fire" % a for a in alerts if a not in fired]
    problems += ["%s: no case where it stays quiet" % a for a in alerts if a not in quiet]
    problems += ["%s: tested but not in %s" % (a, argv[0]) for a in sorted((fired | quiet) - set(alerts))]
    for problem in problems:
        print(problem)
    print("%d alerts, each tested firing and not firing: %s" % (len(alerts), "no" if problems else "yes"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
