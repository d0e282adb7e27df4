// Installs the Debian packages that the test suite needs (OpenLDAP, mosquitto, PostgreSQL, NATS, Chromium as real
// peers; curl and jq for the README's examples), when missing.
// As root it installs them non-interactively; otherwise it stops with a message naming the packages.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** package name → a file that proves it is installed */
export const TEST_PACKAGES = {
  slapd: '/usr/sbin/slapd',
  'ldap-utils': '/usr/bin/ldapadd',
  mosquitto: '/usr/sbin/mosquitto',
  // The docs tests run the README's curl tour as written (test/integration/docs/).
  curl: '/usr/bin/curl',
  jq: '/usr/bin/jq',
  // PostgreSQL backend: contract suites and integration tests start a throw-away cluster in a temp dir.
  postgresql: '/usr/lib/postgresql/15/bin/initdb',
  // The dashboard's end-to-end tests drive Debian's Chromium through playwright-core (no browser download).
  chromium: '/usr/bin/chromium',
  // Cluster tests: live values between nodes.
  'nats-server': '/usr/sbin/nats-server',
  // Northbound MQTT docs examples subscribe with mosquitto_sub.
  'mosquitto-clients': '/usr/bin/mosquitto_sub',
};

export function missingPackages(packages = TEST_PACKAGES) {
  return Object.entries(packages)
    .filter(([, file]) => !existsSync(file))
    .map(([name]) => name);
}

export function provision(packages = TEST_PACKAGES) {
  const missing = missingPackages(packages);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    console.error(
      `The test suite needs the Debian packages: ${missing.join(' ')}.\nInstall them (as root): apt-get install -y ${missing.join(' ')}`,
    );
    process.exit(1);
  }
  console.log(`Installing test dependencies from Debian: ${missing.join(' ')} …`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // slapd's postinst would ask questions and start a daemon; preseed it and keep services from starting.
  spawnSync('sh', ['-c', 'echo "slapd slapd/no_configuration boolean true" | debconf-set-selections'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
  const still = missingPackages(packages);
  if (still.length) {
    console.error(`Installing ${still.join(' ')} failed.`);
    process.exit(1);
  }
}
