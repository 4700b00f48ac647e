#!/bin/bash
# Start-up time of the light commands: `alloop --help`, `version`, `annotators add`, `label-stats`,
# wall seconds per call, 3 rounds. With BEFORE_SRC set to the src/ folder of another checkout
# (e.g. `git archive 9dd1380 | tar -x -C /tmp/base`), rounds alternate between it and this
# checkout, so load from other processes hits both alike. PROJECT is an existing labelling
# project (label-stats reads it; annotators add adds throw-away names to it).
#
#     PROJECT=/tmp/proj BEFORE_SRC=/tmp/base/src bench/startup.sh
set -eu
HERE=$(cd "$(dirname "$0")/.." && pwd)
PY=${PY:-$HERE/.venv/bin/python}
PROJECT=${PROJECT:?set PROJECT to a labelling project folder}
sides="after"; [ -n "${BEFORE_SRC:-}" ] && sides="before after"
t=$(mktemp)
for i in 1 2 3; do
  for side in $sides; do
    src=$HERE/src; [ "$side" = before ] && src=$BEFORE_SRC
    for cmd in "--help" "version" "annotators add $side$i$RANDOM --project $PROJECT" "label-stats --project $PROJECT"; do
      /usr/bin/time -o "$t" -f "%e" env PYTHONPATH="$src" "$PY" -m alloop $cmd >/dev/null 2>&1
      echo "$side|${cmd%% --project*}|$(tail -1 "$t")"
    done
  done
done
rm -f "$t"
uptime
