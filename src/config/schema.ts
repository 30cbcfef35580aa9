/**
 * The one description of toolkit.config.toml: the validator, the TypeScript
 * types of the raw config (z.infer), the JSON Schema (`strata schema`) and
 * docs/config.md are all derived from it. Keys are kebab-case as written in TOML.
 * The schema describes the merged document (the root file plus its includes).
 */
import * as z from 'zod';
import { ARCHES } from './model.js';

/** RPM package names: what a component or image may be called. */
export const NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._+-]*$/;
const SHA256_PATTERN = /^[0-9a-f]{64}$/;

const name = (what: string) => z.string().regex(NAME_PATTERN, `a valid ${what} name (letters, digits and . _ + -)`);
const strings = (description: string) => z.array(z.string()).default([]).describe(description);
const arch = z.enum(ARCHES);

const distro = z
  .strictObject({
    name: name('distro').describe('Distro name, used in os-release and image names.'),
    version: z.string().min(1).describe('Distro version (VERSION_ID).'),
    'dist-tag': z.string().default('').describe('Value of %{dist}, e.g. ".sx1"; empty for none.'),
    vendor: z.string().default('').describe('Vendor written into RPMs (%{vendor}) and os-release; empty for none.'),
    arches: z.array(arch).min(1).default([...ARCHES]).describe('Target architectures the distro is built for.'),
    'source-date-epoch': z
      .int()
      .min(0)
      .describe('SOURCE_DATE_EPOCH for every build and image: all timestamps strata writes come from it.'),
  })
  .describe('What the distro is called and which architectures it targets. Required.');

const rpm = z
  .strictObject({
    'macro-files': strings(
      'Macro files loaded after rpm\'s own, in this order (globs allowed; matches of one glob in path order). Used by rpmspec and rpmbuild alike.',
    ),
    'lua-dirs': strings('Folders of Lua modules that macros load with `require "x.y"`; made available under `<configdir>/lua/`.'),
    rpmrc: z.string().optional().describe('An rpmrc used instead of the host\'s. Default: the host\'s rpmrc.'),
    defines: z
      .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a macro name'), z.string())
      .default({})
      .describe('Macros defined last, as with `rpm --define "NAME VALUE"`.'),
  })
  .describe('The rpm macro context specs are evaluated and built in.');

const componentGlob = z
  .strictObject({
    path: z.string().min(1).describe('Glob of spec files relative to the project root, e.g. "specs/*/*.spec" (`*`, `?`, `[...]`, `**`).'),
    exclude: strings('Globs of spec paths (relative to the project root) to leave out.'),
  })
  .describe(
    'Declares components in bulk: every spec file the glob matches is a component named after the spec file (without .spec). A [components.NAME] stanza for the same name refines it.',
  );

const overlay = z
  .looseObject({
    type: z.string().min(1).describe('Overlay type (see the overlay documentation for the types and their fields).'),
    description: z.string().optional().describe('Why the overlay exists.'),
    category: z.string().optional().describe('Free-form grouping, e.g. "build-fix", "branding", "security".'),
    'upstream-status': z.string().optional().describe('Whether the change is upstream, e.g. "submitted", "accepted", "inappropriate".'),
  })
  .describe(
    'One change applied to the component\'s spec or files. The keys other than the metadata are the type\'s own fields, checked by the overlay stage.',
  );

const component = z
  .strictObject({
    spec: z
      .string()
      .optional()
      .describe('Spec file, relative to the project root. Default: the spec a component glob found, else specs/NAME/NAME.spec.'),
    overlays: z.array(overlay).default([]).describe('Overlays applied in order.'),
    'source-hashes': z
      .record(
        z.string().regex(/^(?!\/)(?!(.*\/)?\.\.(\/|$)).+$/, 'a source file name relative to the component folder'),
        z.string().regex(SHA256_PATTERN, 'a SHA-256 in lowercase hex (64 characters)'),
      )
      .default({})
      .describe('Pinned SHA-256 of source files (file name → hex digest), checked before a build.'),
    arches: z.array(arch).min(1).optional().describe('Architectures this component is built for. Default: all distro arches.'),
  })
  .describe('One component (source package).');

const buildRoot = z
  .strictObject({
    type: z
      .enum(['host', 'tarball', 'oci'])
      .default('host')
      .describe('Where build tools come from: the host\'s /usr, an unpacked tarball, or an OCI image layout.'),
    path: z.string().optional().describe('The tarball or OCI layout, relative to the project root. Required unless type is "host".'),
    provides: strings('Capabilities the build root offers to BuildRequires (e.g. "gcc", "/bin/sh").'),
  })
  .describe('The build root every job runs in.');

const optionalPath = (description: string) => z.string().min(1).optional().describe(description);

const farm = z
  .strictObject({
    url: z.string().min(1).optional().describe('NATS server URL(s), comma-separated, e.g. nats://farm.example:4222.'),
    'creds-file': optionalPath('NATS .creds file (may lie outside the project: credentials are kept apart).'),
    'nkey-file': optionalPath('File holding an nkey seed.'),
    'tls-ca': optionalPath('CA bundle that verifies the server.'),
    'tls-cert': optionalPath('TLS client certificate.'),
    'tls-key': optionalPath('TLS client key.'),
    'queue-ahead': z.int().min(0).optional().describe('Jobs kept queued beyond the live worker slots (default: twice the slots).'),
    replicas: z.int().min(1).max(5).optional().describe('Stream replicas when a build is the first to create the farm: 1 on one server, 3 on a three-node cluster.'),
  })
  .describe('The NATS JetStream build farm used when executor = "nats". Passwords and tokens come only from the environment (STRATA_NATS_*), never from config.');

const build = z
  .strictObject({
    jobs: z.int().min(0).default(0).describe('Parallel build jobs; 0 means one per core.'),
    sandbox: z.enum(['bubblewrap', 'podman']).default('bubblewrap').describe('Isolation backend for build jobs.'),
    'out-dir': z.string().default('out').describe('Output folder (RPM repositories, images, logs), relative to the project root.'),
    'cache-dir': z.string().default('.strata-cache').describe('Cache folder, relative to the project root.'),
    lookaside: z
      .string()
      .optional()
      .describe(
        'Where sources missing from a component folder are fetched: a folder relative to the project root, or an http(s) URL template with {name} and/or {sha256}.',
      ),
    timeout: z.int().min(1).default(3600).describe('Time limit of one build job, in seconds.'),
    'cross-check': z.boolean().default(false).describe('Run %check when cross-building (under qemu-user).'),
    'build-root': buildRoot.prefault({}),
    executor: z
      .enum(['local', 'nats'])
      .default('local')
      .describe("Where build jobs run: 'local' sandboxes (the sandbox backend), or 'nats': strata workers through NATS JetStream ([build.farm])."),
    farm: farm.prefault({}),
  })
  .describe('How components are built.');

const cycleBreak = z
  .strictObject({
    component: z.string().min(1).describe('The component whose BuildRequires closes a cycle.'),
    requirement: z.string().min(1).describe('The BuildRequires capability to take from elsewhere.'),
    from: z
      .enum(['build-root', 'bootstrap'])
      .default('build-root')
      .describe('Where it is satisfied instead: the build root, or a bootstrap build of the providing component.'),
  })
  .describe('Breaks a build-dependency cycle by satisfying one requirement outside the graph.');

const graph = z
  .strictObject({
    providers: z
      .record(z.string().min(1), z.string().min(1))
      .default({})
      .describe('Capability → component, for capabilities several components provide.'),
    'cycle-breaks': z.array(cycleBreak).default([]).describe('Declared ways out of build-dependency cycles.'),
  })
  .describe('Choices the dependency graph cannot make by itself.');

const minimise = z
  .strictObject({
    docs: z.boolean().default(false).describe('Remove documentation (/usr/share/doc, man and info pages).'),
    locales: strings('Locales whose data is kept; empty keeps all locale data.'),
    remove: strings('Extra path globs removed from the tree (relative to the image root).'),
  })
  .describe('What is removed from the installed tree before the filesystem is made.');

const archChanges = z
  .strictObject({
    'add-packages': strings('Packages added on this architecture.'),
    'remove-packages': strings('Packages left out on this architecture.'),
  })
  .describe('Package changes for one architecture.');

const image = z
  .strictObject({
    packages: z.array(z.string().min(1)).min(1).describe('Packages installed into the image (with their dependencies).'),
    'extra-repos': strings('Extra dnf repository base URLs, besides the distro\'s own built repository; `$basearch` is replaced by the image\'s arch.'),
    filesystem: z.enum(['erofs', 'squashfs']).default('erofs').describe('Read-only filesystem of the root (or /usr) partition.'),
    verity: z.boolean().default(true).describe('Protect the filesystem with dm-verity (hash tree and root hash).'),
    layout: z
      .enum(['root', 'usr'])
      .default('root')
      .describe('"root": the whole root is read-only; "usr": a read-only /usr partition with its own verity partition.'),
    init: z.string().regex(/^\//, 'an absolute path inside the image').default('/sbin/init').describe('Path of init inside the image.'),
    cmdline: strings('Extra kernel command-line arguments.'),
    formats: z
      .array(z.enum(['raw', 'vhd', 'qcow2']))
      .min(1)
      .default(['raw'])
      .describe('Disk image formats written.'),
    signing: z
      .strictObject({
        key: z.string().min(1).describe('Private key (PEM), relative to the project root.'),
        certificate: z.string().min(1).describe('Certificate (PEM), relative to the project root.'),
      })
      .optional()
      .describe('Sign the verity root hash (PKCS#7) with this key. Default: unsigned.'),
    'boot-marker': z.string().default('').describe('A line the image\'s init prints once booted; `strata boot` waits for it. Empty: none.'),
    minimise: minimise.prefault({}),
    arch: z.partialRecord(arch, archChanges).default({}),
  })
  .describe('One image composed from the built packages.');

export const configSchema = z
  .strictObject({
    include: strings(
      'Other TOML files merged into the config: paths or globs relative to the file that includes them. Included files may include others.',
    ),
    distro,
    rpm: rpm.prefault({}),
    'component-globs': z.array(componentGlob).default([]),
    components: z.record(name('component'), component).default({}),
    build: build.prefault({}),
    graph: graph.prefault({}),
    images: z.record(name('image'), image).default({}),
  })
  .describe('toolkit.config.toml');

/** Entries of the named tables, checked one by one when their table as a whole is invalid. */
export const entrySchemas = { components: component, images: image } as const;

export type RawConfig = z.infer<typeof configSchema>;
export type RawComponent = z.infer<typeof component>;
export type RawOverlay = z.infer<typeof overlay>;
export type RawImage = z.infer<typeof image>;

/** Overlay keys every type shares; all others are the type's own fields. */
export const OVERLAY_METADATA_KEYS = ['type', 'description', 'category', 'upstream-status'] as const;

/** The JSON Schema of toolkit.config.toml (draft 2020-12). */
export function configJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(configSchema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
}
