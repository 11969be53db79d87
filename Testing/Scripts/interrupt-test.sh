#!/usr/bin/env bash
# SIGINT (or another signal) while voxseg writes its output: exit code 130, a line saying so on stderr, and
# nothing left in the output folder.
# With "json" last, the run logs with --log-json and the line must be a JSON object like its other messages.
# Usage: interrupt-test.sh <voxseg> <large input volume> <work folder> [signal, default INT] [text|json]
set -u
voxseg=$1 input=$2 work=$3 signal=${4:-INT} log=${5:-text}
flags=()
[ "$log" = json ] && flags=(--log-json)
rm -rf "$work" && mkdir -p "$work"
"$voxseg" "${flags[@]}" convert "$input" "$work/out.nii.gz" 2> "$work.stderr" &
pid=$!
# Wait until the temporary output exists, i.e. the write is under way.
for _ in $(seq 1 2000); do
  compgen -G "$work/.voxseg-tmp-*" >/dev/null && break
  sleep 0.005
done
if ! compgen -G "$work/.voxseg-tmp-*" >/dev/null; then
  wait $pid; echo "the write finished before it could be interrupted"; exit 1
fi
kill -"$signal" $pid
wait $pid
rc=$?
left=$(ls -A "$work")
echo "exit code $rc; left in folder: [${left}]"
if [ "$log" = json ]; then
  line='^[{]"time":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[.]000Z","level":"error","message":"interrupted; unfinished outputs removed"[}]$'
  grep -Eq "$line" "$work.stderr" || { echo "no JSON line on stderr:"; cat "$work.stderr"; exit 1; }
else
  grep -q "voxseg: interrupted; unfinished outputs removed" "$work.stderr" || { echo "no message on stderr"; exit 1; }
fi
[ "$rc" -eq 130 ] && [ -z "$left" ]
