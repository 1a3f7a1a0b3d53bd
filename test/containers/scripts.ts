// Scripts the container tests put in /opt/test (bind-mounted read-only).

/**
 * recorder.sh NAME LOG: logs "NAME ready", then "NAME SIG" for every HUP/USR1/USR2/TERM it gets;
 * exits 0 after TERM. `wait` on a short sleep lets the traps run promptly.
 */
export const RECORDER = `#!/bin/sh
name=$1; log=$2
for s in HUP USR1 USR2; do trap "echo $name $s >>$log" $s; done
trap "echo $name TERM >>$log; exit 0" TERM
echo "$name ready" >>$log
while :; do /bin/sleep 0.1 & wait $! 2>/dev/null; done
`;

/** family.sh LOG: a recorder "child" in the background, the main process becomes recorder "main" */
export const FAMILY = `#!/bin/sh
/opt/test/recorder.sh child "$1" &
exec /opt/test/recorder.sh main "$1"
`;

/** the lines of a recorder log (empty when it does not exist yet) */
export function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.length > 0);
}
