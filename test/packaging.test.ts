/**
 * Tests the packages as a user receives them. A copy of the workspace under
 * the OS temp dir is built and packed with pnpm, and the tarballs are
 * installed into a fresh project there. That project imports them from plain
 * Node ESM, runs their bins and type-checks against their declarations.
 *
 * Installs resolve from the local pnpm store (`--offline`). Only when the
 * store's metadata cache lacks a package does the consumer install fall back
 * to `--prefer-offline`, which may reach the npm registry.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"

const root = fileURLToPath(new URL("..", import.meta.url))
const consumerFiles = path.join(root, "test", "packaging")

// On a two-core machine this file took 30 to 60 s, depending on the load. The
// timeouts leave room above that.
const setupTimeout = 180_000
const commandTimeout = 120_000

const bins: Readonly<Record<string, string>> = {
  "@effect-pagerduty/relay": "pd-relay",
  "@effect-pagerduty/simulator": "pd-simulator"
}

interface Manifest {
  readonly name: string
  readonly version: string
  readonly private?: boolean
  readonly exports?: Record<string, unknown>
  readonly bin?: Record<string, string>
  readonly main?: string
  readonly types?: string
  readonly files?: ReadonlyArray<string>
  readonly dependencies?: Record<string, string>
}

interface WorkspacePackage {
  readonly directory: string
  readonly manifest: Manifest
}

const readManifest = (directory: string): Manifest =>
  JSON.parse(fs.readFileSync(path.join(directory, "package.json"), "utf8"))

const workspacePackages: ReadonlyArray<WorkspacePackage> = fs.readdirSync(path.join(root, "packages"))
  .map((name) => path.join(root, "packages", name))
  .filter((directory) => fs.existsSync(path.join(directory, "package.json")))
  .map((directory) => ({ directory, manifest: readManifest(directory) }))
  .filter((pkg) => pkg.manifest.private !== true)

const versionOf = new Map(workspacePackages.map((pkg) => [pkg.manifest.name, pkg.manifest.version]))

// Children find the Node running this test first on PATH, for `#!/usr/bin/env node`.
// Without the version switch pnpm would download the `packageManager` release
// of the root manifest whenever the running pnpm differs from it.
const env: NodeJS.ProcessEnv = {
  ...process.env,
  PATH: [path.dirname(process.execPath), process.env.PATH ?? ""].join(path.delimiter),
  npm_config_manage_package_manager_versions: "false"
}

// Under `pnpm test`, npm_execpath names the pnpm that runs the suite.
const pnpm: { readonly file: string; readonly prefix: ReadonlyArray<string> } = (() => {
  const execPath = process.env.npm_execpath
  if (execPath === undefined || !path.basename(execPath).startsWith("pnpm")) return { file: "pnpm", prefix: [] }
  return /\.[cm]?js$/.test(execPath) ? { file: process.execPath, prefix: [execPath] } : { file: execPath, prefix: [] }
})()

const execFileAsync = promisify(execFile)

const run = async (file: string, args: ReadonlyArray<string>, cwd: string) => {
  try {
    return await execFileAsync(file, args, {
      cwd,
      env,
      encoding: "utf8",
      timeout: commandTimeout,
      maxBuffer: 64 * 1024 * 1024
    })
  } catch (error) {
    const failure = error as { readonly code?: unknown; readonly stdout?: string; readonly stderr?: string }
    const output = `${failure.stderr ?? ""}\n${failure.stdout ?? ""}`.trim().slice(-4000)
    throw new Error(`${path.basename(file)} ${args.join(" ")} failed in ${cwd} (exit ${failure.code}):\n${output}`)
  }
}

const runPnpm = (args: ReadonlyArray<string>, cwd: string) => run(pnpm.file, [...pnpm.prefix, ...args], cwd)

const writeJson = (file: string, value: unknown) => fs.writeFileSync(file, JSON.stringify(value, null, 2) + "\n")

// The copy contains what building and packing read: the root manifest, lockfile
// and base tsconfig, and each package without node_modules, dist and tests.
const copyWorkspace = (target: string) => {
  for (const file of ["package.json", "pnpm-lock.yaml", "pnpm-workspace.yaml", "tsconfig.base.json", ".npmrc"]) {
    if (fs.existsSync(path.join(root, file))) fs.copyFileSync(path.join(root, file), path.join(target, file))
  }
  for (const name of fs.readdirSync(path.join(root, "packages"))) {
    const source = path.join(root, "packages", name)
    if (!fs.existsSync(path.join(source, "package.json"))) continue
    for (const entry of fs.readdirSync(source)) {
      if (entry === "node_modules" || entry === "dist" || entry === "test") continue
      fs.cpSync(path.join(source, entry), path.join(target, "packages", name, entry), { recursive: true })
    }
  }
}

// Exact versions of every package that the workspace lockfile resolves to a
// single version. As overrides in the consumer they keep the resolution on
// versions that are in the store. Without them an offline install picks the
// newest version in the metadata cache, which the store may lack.
const lockedVersions = (): Record<string, string> => {
  const lockfile = fs.readFileSync(path.join(root, "pnpm-lock.yaml"), "utf8")
  const section = lockfile.split(/^packages:$/m)[1]?.split(/^snapshots:$/m)[0] ?? ""
  const versions = new Map<string, Set<string>>()
  for (const match of section.matchAll(/^ {2}'?((?:@[^@\s/]+\/)?[^@\s']+)@([^'():\s]+)'?:$/gm)) {
    const [, name, version] = match
    if (name === undefined || version === undefined) continue
    const known = versions.get(name) ?? new Set()
    versions.set(name, known.add(version))
  }
  return Object.fromEntries(
    [...versions].filter(([, set]) => set.size === 1).map(([name, set]) => [name, [...set][0] as string])
  )
}

const tarballName = (manifest: Manifest) =>
  `${manifest.name.replace(/^@/, "").replace("/", "-")}-${manifest.version}.tgz`

const listFiles = (directory: string): ReadonlyArray<string> =>
  fs.readdirSync(directory, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(directory, path.join(entry.parentPath, entry.name)).split(path.sep).join("/"))

let temp = ""
let consumer = ""
let typescriptBin = ""

const installed = (name: string) => fs.realpathSync(path.join(consumer, "node_modules", name))

describe("packed packages", () => {
  beforeAll(async () => {
    temp = fs.mkdtempSync(path.join(os.tmpdir(), "effect-pagerduty-packaging-"))
    const workspace = path.join(temp, "workspace")
    const tarballs = path.join(temp, "tarballs")
    consumer = path.join(temp, "consumer")
    for (const directory of [workspace, tarballs, consumer]) fs.mkdirSync(directory)

    copyWorkspace(workspace)
    await runPnpm(["install", "--frozen-lockfile", "--offline", "--ignore-scripts"], workspace)
    // `pnpm check` type-checks these sources; the build here skips that work
    // but still reports declaration emit errors.
    await runPnpm(["run", "build", "--noCheck"], workspace)
    // Each package's prepack script would build it again, with type checks.
    const packOptions = ["--config.ignore-scripts=true", "--pack-destination", tarballs]
    await runPnpm(["-r", "--filter", "./packages/*", "pack", ...packOptions], workspace)
    typescriptBin = path.join(workspace, "node_modules", ".bin", "tsc")

    const tarballSpecs = Object.fromEntries(
      workspacePackages.map((pkg) => [pkg.manifest.name, `file:${path.join(tarballs, tarballName(pkg.manifest))}`])
    )
    const effectVersion = workspacePackages.find((pkg) => pkg.manifest.name === "@effect-pagerduty/pagerduty")
      ?.manifest.dependencies?.effect
    if (effectVersion === undefined) throw new Error("packages/pagerduty/package.json has no effect dependency")
    writeJson(path.join(consumer, "package.json"), {
      name: "packaging-consumer",
      private: true,
      type: "module",
      dependencies: { ...tarballSpecs, effect: effectVersion },
      pnpm: { overrides: { ...lockedVersions(), ...tarballSpecs } }
    })
    writeJson(path.join(consumer, "tsconfig.json"), {
      compilerOptions: {
        target: "ES2023",
        lib: ["ES2023"],
        module: "NodeNext",
        moduleResolution: "NodeNext",
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: []
      },
      files: ["consumer-types.ts"]
    })
    for (const file of ["consumer.mjs", "consumer-types.ts"]) {
      fs.copyFileSync(path.join(consumerFiles, file), path.join(consumer, file))
    }
    if (fs.existsSync(path.join(root, ".npmrc"))) {
      fs.copyFileSync(path.join(root, ".npmrc"), path.join(consumer, ".npmrc"))
    }

    const install = ["install", "--no-frozen-lockfile", "--ignore-scripts"]
    await runPnpm([...install, "--offline"], consumer).catch(() => runPnpm([...install, "--prefer-offline"], consumer))
  }, setupTimeout)

  afterAll(() => {
    if (temp !== "") fs.rmSync(temp, { recursive: true, force: true })
  })

  it.each(workspacePackages.map((pkg) => [pkg.manifest.name, pkg] as const))(
    "%s tarball contains dist and README",
    (_name, pkg) => {
      const files = listFiles(installed(pkg.manifest.name))
      // Sources that `files` leaves out with `!src/...` are not built either.
      const unpublished = (pkg.manifest.files ?? []).filter((entry) => entry.startsWith("!src/"))
        .map((entry) => entry.slice("!src/".length))
      const modules = listFiles(path.join(pkg.directory, "src"))
        .filter((file) => file.endsWith(".ts") && !unpublished.includes(file))
        .map((file) => file.slice(0, -".ts".length))
      for (const module of modules) {
        expect(files).toContain(`dist/${module}.js`)
        expect(files).toContain(`dist/${module}.d.ts`)
      }
      expect(files).toContain("README.md")
      expect(files.filter((file) => file.startsWith("test/"))).toEqual([])
      expect(files.filter((file) => file.endsWith(".tsbuildinfo"))).toEqual([])
      expect(files.filter((file) => file.startsWith("tsconfig"))).toEqual([])
    }
  )

  it.each(workspacePackages.map((pkg) => [pkg.manifest.name, pkg] as const))(
    "%s manifest points at dist",
    (name) => {
      const directory = installed(name)
      const manifest = readManifest(directory)
      expect(manifest.exports?.["./*"]).toEqual({ types: "./dist/*.d.ts", default: "./dist/*.js" })
      expect(manifest.exports?.["./internal/*"]).toBeNull()
      for (const [dependency, range] of Object.entries(manifest.dependencies ?? {})) {
        const sibling = versionOf.get(dependency)
        if (sibling !== undefined) expect(range).toBe(sibling)
        expect(range).not.toMatch(/^workspace:/)
      }
      const entry = manifest.exports?.["."] as { readonly types: string; readonly default: string } | undefined
      for (const file of [manifest.main, manifest.types, entry?.types, entry?.default]) {
        if (file !== undefined) expect(fs.existsSync(path.join(directory, file))).toBe(true)
      }
      const bin = bins[name]
      expect(manifest.bin).toEqual(bin === undefined ? undefined : { [bin]: "./dist/bin.js" })
    }
  )

  // The tests below each start a process in the consumer project, so they run concurrently.
  describe("consumer project", () => {
    it.concurrent("event reaches the simulator from Node ESM", async ({ expect }) => {
      const { stdout } = await run(process.execPath, ["consumer.mjs"], consumer)
      const result = JSON.parse(stdout)
      expect(result.adjustments).toEqual(["SummaryTruncated"])
      expect(result.accepted).toEqual({ status: "success", message: "Event processed", dedup_key: "db-1/disk" })
      expect(result.alerts).toHaveLength(1)
      expect(result.alerts[0]).toEqual({
        dedupKey: "db-1/disk",
        status: "triggered",
        severity: "critical",
        summaryCodePoints: 1024,
        summaryEnd: "…"
      })
    })

    it.concurrent("package imports resolve to dist", async ({ expect }) => {
      const script = [
        "const names = ['@effect-pagerduty/pagerduty/EventsV2', '@effect-pagerduty/simulator']",
        "console.log(JSON.stringify(names.map((name) => import.meta.resolve(name))))"
      ].join("\n")
      const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], consumer)
      const [eventsV2, simulator] = JSON.parse(stdout).map((url: string) => fileURLToPath(url))
      expect(eventsV2).toBe(path.join(installed("@effect-pagerduty/pagerduty"), "dist", "EventsV2.js"))
      expect(simulator).toBe(path.join(installed("@effect-pagerduty/simulator"), "dist", "index.js"))
    })

    it.concurrent("internal modules are not exported", async ({ expect }) => {
      const script = [
        "await import('@effect-pagerduty/pagerduty/internal/prepare').then(",
        "  () => console.log('imported'),",
        "  (error) => console.log(error.code)",
        ")"
      ].join("\n")
      const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], consumer)
      expect(stdout.trim()).toBe("ERR_PACKAGE_PATH_NOT_EXPORTED")
    })

    it.concurrent("pd-relay --help runs from the bin", async ({ expect }) => {
      const { stdout } = await run(path.join(consumer, "node_modules", ".bin", "pd-relay"), ["--help"], consumer)
      expect(stdout).toContain("pd-relay <subcommand>")
      expect(stdout).toContain("serve")
    })

    it.concurrent("pd-simulator --help runs from the bin", async ({ expect }) => {
      const { stdout } = await run(path.join(consumer, "node_modules", ".bin", "pd-simulator"), ["--help"], consumer)
      expect(stdout).toContain("--events-per-minute")
    })

    // npm links a bin as a symlink to the file, which then needs a shebang, the
    // executable bit and an `import.meta.main` guard that holds through the link.
    it.concurrent.for(Object.entries(bins))("%s bin runs through a symlink", async ([name, bin], { expect }) => {
      const link = path.join(temp, bin)
      fs.rmSync(link, { force: true })
      fs.symlinkSync(path.join(installed(name), "dist", "bin.js"), link)
      const { stdout } = await run(link, ["--version"], consumer)
      expect(stdout.trim()).toBe(`${bin} v${versionOf.get(name)}`)
    })

    it.concurrent("declarations type-check a consumer", async ({ expect }) => {
      const { stdout } = await run(typescriptBin, ["-p", "tsconfig.json"], consumer)
      expect(stdout).toBe("")
    })
  })
})
