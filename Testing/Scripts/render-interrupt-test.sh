#!/usr/bin/env bash
# SIGINT while `render` draws on its private Xvfb ($DISPLAY unset), once it writes meshes: exit code 130, no output
# folder left, and the X server it started stops too (before, each interrupted render left an Xvfb running, its
# parent gone).
# Usage: render-interrupt-test.sh <voxseg> <image> <label map> <work folder>
set -u
voxseg=$1 image=$2 labels=$3 work=$4
command -v Xvfb >/dev/null || { echo "Xvfb is not installed: nothing to test"; exit 0; }
rm -rf "$work" && mkdir -p "$work"
env -u DISPLAY "$voxseg" -q render "$image" "$labels" -o "$work/out" --threads 1 2> "$work.stderr" &
pid=$!
xvfb=""
for _ in $(seq 1 2000); do # until its Xvfb runs
  xvfb=$(pgrep -P $pid -x Xvfb | head -1)
  [ -n "$xvfb" ] && break
  sleep 0.005
done
if [ -z "$xvfb" ]; then
  wait $pid; echo "render finished (exit $?) before its Xvfb was seen"; exit 1
fi
# once the meshes are being written (until 2026-11-29 they were renamed into place one by one, and an interrupt
# left them there without the pictures): nothing of the render may stay
for _ in $(seq 1 2000); do
  [ -n "$(ls -A "$work/out/meshes" 2>/dev/null | head -1)" ] && break
  kill -0 $pid 2>/dev/null || break
  sleep 0.005
done
sleep 0.2
kill -INT $pid
wait $pid
rc=$?
for _ in $(seq 1 100); do # Xvfb takes a second or two to shut down
  kill -0 "$xvfb" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$xvfb" 2>/dev/null; then
  echo "Xvfb $xvfb still runs 10 s after the interrupted render"; kill "$xvfb"; exit 1
fi
echo "exit code $rc; Xvfb $xvfb stopped"
[ "$rc" -eq 130 ] && [ ! -e "$work/out" ]
