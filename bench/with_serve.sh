#!/bin/sh
# with_serve.sh SOCKTAP PORT CMD...: CMD under `socktap serve` as it runs in
# production (system-wide, its port on 127.0.0.1:PORT), started once serve
# listens, which it does only once its probes are armed; one scrape at the
# end, as Prometheus would make; exits with CMD's status.
socktap=$1 port=$2
shift 2
"$socktap" serve --web.listen-address "127.0.0.1:$port" $SERVE_ARGS &
pid=$!
i=0
until curl -s -o /dev/null "http://127.0.0.1:$port/metrics"; do
	i=$((i + 1))
	if [ $i -gt 600 ] || ! kill -0 $pid 2>/dev/null; then
		echo "with_serve: socktap serve did not start" >&2
		kill $pid 2>/dev/null
		exit 1
	fi
	sleep 0.1
done
# the tracer's pid, for bench/progstats.py (CMD's parent is this script, not serve)
SOCKTAP_TRACER_PID=$pid "$@"
rc=$?
curl -s -o /dev/null "http://127.0.0.1:$port/metrics"
kill -TERM $pid
wait $pid
exit $rc
