import { it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { startOracle } from '../oracle/oracle.js';
it('scratch', { timeout: 60000 }, async () => {
  const o = await startOracle({ unitDirs: ['/tmp/orc-units'], logLevel: 'debug' });
  await o.systemctl(['start', 'x.service']);
  await o.systemctl(['stop', 'x.service']);
  writeFileSync('/tmp/orc-log.txt', readFileSync(o.tmpDir + '/systemd.log', 'utf8'));
  await o.stop();
});
