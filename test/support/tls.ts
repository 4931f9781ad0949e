import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = join(__dirname, '..', '..', 'sandbox', 'tls');

/** The loopback test certificate (PEM) and its key. */
export const TLS = {
  cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
  key: readFileSync(join(dir, 'key.pem'), 'utf8'),
  certPath: join(dir, 'cert.pem'),
  keyPath: join(dir, 'key.pem'),
};
