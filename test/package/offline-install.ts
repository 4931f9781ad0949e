/**
 * A project that installs a packed tarball without the network: its lock file names the
 * tarball and the versions of the tarball's dependencies that this repository's lock
 * resolved, which `npm ci` put in npm's cache. (`npm install --offline` would need the
 * registry's package documents, which `npm ci` does not cache.)
 */

/** The fields of a package.json that an install reads. */
export interface Manifest {
  name: string;
  version: string;
  license?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  bin?: Record<string, string>;
  engines?: Record<string, string>;
}

/** An entry of package-lock.json's `packages`. */
type LockEntry = Manifest & { resolved?: string; integrity?: string; dev?: boolean; devOptional?: boolean; peer?: boolean };

/**
 * Where Node's resolution finds `name` from the package at `from` (a lock path such as
 * `node_modules/a/node_modules/b`, or `''` for the root): the nearest `node_modules/name` up the tree.
 */
function resolveIn(packages: Record<string, LockEntry>, from: string, name: string): string | undefined {
  for (let dir = from; ; ) {
    const path = dir === '' ? `node_modules/${name}` : `${dir}/node_modules/${name}`;
    if (packages[path] !== undefined) return path;
    if (dir === '') return undefined;
    const parent = dir.lastIndexOf('/node_modules/');
    dir = parent < 0 ? '' : dir.slice(0, parent);
  }
}

/**
 * package.json and package-lock.json of a project that depends on the tarball only: the
 * tarball's `dependencies` (never its devDependencies; its peers are the project's business),
 * and theirs, at the versions and tree positions of `repositoryLock`.
 */
export function offlineProject(
  repositoryLock: { packages: Record<string, LockEntry> },
  tarball: { file: string; manifest: Manifest; integrity: string },
): { packageJson: object; lock: object } {
  const spec = `file:${tarball.file}`;
  const installed: Record<string, LockEntry> = {};
  const queue: [string, string][] = Object.keys(tarball.manifest.dependencies ?? {}).map((name) => ['', name]);
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    const [from, name] = next;
    const path = resolveIn(repositoryLock.packages, from, name);
    if (path === undefined) throw new Error(`${name}, a dependency of ${from || tarball.manifest.name}, is not in the repository's lock`);
    if (installed[path] !== undefined) continue;
    const { dev: _dev, devOptional: _devOptional, peer: _peer, ...entry } = repositoryLock.packages[path] as LockEntry;
    installed[path] = entry;
    for (const dep of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies })) queue.push([path, dep]);
  }
  const { name, version, license, dependencies, peerDependencies, bin, engines } = tarball.manifest;
  return {
    packageJson: { name: 'scopegate-user-app', private: true, dependencies: { [name]: spec } },
    lock: {
      name: 'scopegate-user-app',
      lockfileVersion: 3,
      requires: true,
      packages: {
        '': { name: 'scopegate-user-app', dependencies: { [name]: spec } },
        [`node_modules/${name}`]: {
          version,
          resolved: spec,
          integrity: tarball.integrity,
          license,
          dependencies,
          peerDependencies,
          bin,
          engines,
        },
        ...installed,
      },
    },
  };
}
