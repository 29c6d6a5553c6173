import * as fs from "node:fs"

const root = new URL("../../../test/fixtures/pagerduty/", import.meta.url)
const local = new URL("./fixtures/", import.meta.url)

/** Reads a file of the shared reference data under `test/fixtures/pagerduty/`. */
export const readShared = (path: string): string => fs.readFileSync(new URL(path, root), "utf8")

/** Reads a file of this package's own test data under `test/fixtures/`. */
export const readLocal = (path: string): string => fs.readFileSync(new URL(path, local), "utf8")

/** The names of the Alertmanager webhook payloads in the shared reference data. */
export const sharedAlertmanagerFixtures = (): Array<string> =>
  fs.readdirSync(new URL("alertmanager/", root)).filter((name) => name.endsWith(".json")).map((name) =>
    `alertmanager/${name}`
  )

/** The captured Alertmanager 0.25 notifications, as webhook and PagerDuty event pairs. */
export const capturedPairs = ["memory-firing", "memory-resolved", "disk-route-firing"] as const

export const capturedWebhook = (name: string): unknown =>
  JSON.parse(readLocal(`alertmanager-0.25/${name}.webhook.json`))

export const capturedEvent = (name: string): any => JSON.parse(readLocal(`alertmanager-0.25/${name}.pagerduty.json`))
