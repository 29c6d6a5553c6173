/**
 * The simulator's REST data: seeded services, users, escalation policies,
 * priorities, incidents, log entries and audit records, and the incident
 * changes the API makes. Objects are stored in PagerDuty's JSON shape.
 */

/** A JSON object as PagerDuty sends it. */
export type Json = Record<string, unknown>

/** The host used in `self` and `html_url` fields; `.invalid` never resolves. */
export const selfBase = "https://pagerduty-simulator.invalid"

/** The seed sizes. */
export interface SeedOptions {
  readonly incidents: number
  readonly auditRecords: number
  readonly startMillis: number
}

const pad = (n: number, width = 6) => String(n).padStart(width, "0")

const reference = (type: string, id: string, summary: string, collection: string): Json => ({
  id,
  type: `${type}_reference`,
  summary,
  self: `${selfBase}/${collection}/${id}`,
  html_url: `${selfBase}/${collection}/${id}`
})

const iso = (millis: number) => new Date(millis).toISOString().replace(/\.\d{3}Z$/, "Z")

/** The error response for a rejected change. */
export interface Rejection {
  readonly _tag: "Rejection"
  readonly status: number
  readonly code: number
  readonly message: string
  readonly errors: ReadonlyArray<string>
}

const invalid = (...errors: Array<string>): Rejection => ({
  _tag: "Rejection",
  status: 400,
  code: 2001,
  message: "Invalid Input Provided",
  errors
})

const notFound: Rejection = { _tag: "Rejection", status: 404, code: 2100, message: "Not Found", errors: [] }

/** The mutable state behind the REST routes. */
export class RestStore {
  readonly users: Array<Json> = []
  readonly escalationPolicies: Array<Json> = []
  readonly services: Array<Json> = []
  readonly priorities: Array<Json> = []
  readonly incidents: Array<Json> = []
  readonly notes = new Map<string, Array<Json>>()
  readonly logEntries: Array<Json> = []
  readonly auditRecords: Array<Json> = []
  readonly onCalls: Array<Json> = []
  private nextLogEntry = 1
  private nextNote = 1

  constructor(seed: SeedOptions) {
    const userNames = ["Ada Lovelace", "Grace Hopper", "Alan Turing", "Edsger Dijkstra", "Barbara Liskov"]
    userNames.forEach((name, index) => {
      const id = `PUSR${pad(index + 1, 3)}`
      this.users.push({
        id,
        type: "user",
        summary: name,
        self: `${selfBase}/users/${id}`,
        html_url: `${selfBase}/users/${id}`,
        name,
        email: `${name.split(" ")[0]!.toLowerCase()}@example.com`,
        time_zone: "Etc/UTC",
        color: "green",
        role: index === 0 ? "admin" : "user",
        description: null,
        job_title: null,
        teams: [],
        contact_methods: [],
        notification_rules: []
      })
    })

    for (let index = 0; index < 2; index++) {
      const id = `PESC${pad(index + 1, 3)}`
      const name = index === 0 ? "Primary escalation" : "Secondary escalation"
      const targets = [this.userRef(this.users[index]!), this.userRef(this.users[index + 2]!)]
      this.escalationPolicies.push({
        id,
        type: "escalation_policy",
        summary: name,
        self: `${selfBase}/escalation_policies/${id}`,
        html_url: `${selfBase}/escalation_policies/${id}`,
        name,
        description: null,
        num_loops: 1,
        on_call_handoff_notifications: "if_has_services",
        escalation_rules: targets.map((target, level) => ({
          id: `PRUL${pad(index * 10 + level + 1, 3)}`,
          escalation_delay_in_minutes: 30,
          targets: [target]
        })),
        services: [],
        teams: []
      })
      targets.forEach((target, level) => {
        this.onCalls.push({
          user: target,
          schedule: null,
          escalation_policy: this.ref("escalation_policy", this.escalationPolicies[index]!),
          escalation_level: level + 1,
          start: null,
          end: null
        })
      })
    }

    const serviceNames = ["Checkout API", "Payments worker", "Search", "Mail relay"]
    serviceNames.forEach((name, index) => {
      const id = `PSVC${pad(index + 1, 3)}`
      const policy = this.escalationPolicies[index % this.escalationPolicies.length]!
      this.services.push({
        id,
        type: "service",
        summary: name,
        self: `${selfBase}/services/${id}`,
        html_url: `${selfBase}/service-directory/${id}`,
        name,
        description: null,
        status: "active",
        created_at: iso(seed.startMillis),
        auto_resolve_timeout: 14400,
        acknowledgement_timeout: 600,
        alert_creation: "create_alerts_and_incidents",
        escalation_policy: this.ref("escalation_policy", policy),
        teams: [],
        integrations: []
      })
      ;(policy.services as Array<Json>).push(this.ref("service", this.services[index]!))
    })

    const priorityNames = ["P1", "P2", "P3", "P4", "P5"]
    priorityNames.forEach((name, index) => {
      const id = `PPRI${pad(index + 1, 3)}`
      this.priorities.push({
        id,
        type: "priority",
        summary: name,
        self: `${selfBase}/priorities/${id}`,
        name,
        description: `Seeded priority ${name}`
      })
    })

    const statuses = ["triggered", "acknowledged", "resolved"] as const
    for (let index = 0; index < seed.incidents; index++) {
      const service = this.services[index % this.services.length]!
      this.insertIncident({
        title: `Seeded incident ${index + 1}`,
        service,
        status: statuses[index % statuses.length]!,
        urgency: index % 2 === 0 ? "high" : "low",
        incidentKey: `seed-${index + 1}`,
        priority: null,
        details: undefined,
        now: seed.startMillis + index * 60_000,
        agent: this.ref("service", service)
      })
    }

    const actions = ["create", "update", "delete"] as const
    for (let index = 0; index < seed.auditRecords; index++) {
      const user = this.users[index % this.users.length]!
      this.auditRecords.push({
        id: `PAUD${pad(index + 1)}`,
        execution_time: new Date(seed.startMillis + index * 1000).toISOString(),
        execution_context: { request_id: `req-${index + 1}`, remote_address: "127.0.0.1" },
        actors: [{ id: user.id, summary: user.name, type: "user_reference" }],
        method: { type: "api_token", truncated_token: "sim1" },
        root_resource: { id: user.id, type: "user_reference", summary: user.name },
        action: actions[index % actions.length]
      })
    }
  }

  private ref(type: string, object: Json): Json {
    const collection = type === "escalation_policy" ? "escalation_policies" : `${type}s`
    return reference(type, object.id as string, object.summary as string, collection)
  }

  private userRef(user: Json): Json {
    return this.ref("user", user)
  }

  findUserByEmail(email: string): Json | undefined {
    return this.users.find((user) => (user.email as string).toLowerCase() === email.toLowerCase())
  }

  find(collection: ReadonlyArray<Json>, id: string): Json | undefined {
    return collection.find((item) => item.id === id)
  }

  private addLogEntry(incident: Json, type: string, summary: string, agent: Json | null, now: number, extra?: Json) {
    const id = `PLOG${pad(this.nextLogEntry++, 8)}`
    const entry: Json = {
      id,
      type,
      summary,
      self: `${selfBase}/log_entries/${id}`,
      html_url: `${selfBase}/incidents/${incident.id}/log_entries/${id}`,
      created_at: iso(now),
      agent,
      channel: { type: "api" },
      incident: reference("incident", incident.id as string, incident.summary as string, "incidents"),
      service: incident.service,
      teams: [],
      ...extra
    }
    this.logEntries.push(entry)
    return entry
  }

  private insertIncident(input: {
    readonly title: string
    readonly service: Json
    readonly status: "triggered" | "acknowledged" | "resolved"
    readonly urgency: string
    readonly incidentKey: string | undefined
    readonly priority: Json | null
    readonly details: unknown
    readonly now: number
    readonly agent: Json | null
  }): Json {
    const number = this.incidents.length + 1
    const id = `PINC${pad(number, 7)}`
    const policy = this.find(this.escalationPolicies, (input.service.escalation_policy as Json).id as string)!
    const firstTarget = ((policy.escalation_rules as Array<Json>)[0]!.targets as Array<Json>)[0]!
    const at = iso(input.now)
    const incident: Json = {
      id,
      type: "incident",
      summary: `[#${number}] ${input.title}`,
      self: `${selfBase}/incidents/${id}`,
      html_url: `${selfBase}/incidents/${id}`,
      incident_number: number,
      title: input.title,
      created_at: at,
      updated_at: at,
      status: "triggered",
      incident_key: input.incidentKey ?? null,
      service: this.ref("service", input.service),
      assignments: [{ at, assignee: firstTarget }],
      acknowledgements: [],
      assigned_via: "escalation_policy",
      last_status_change_at: at,
      last_status_change_by: input.agent,
      resolved_at: null,
      first_trigger_log_entry: null,
      escalation_policy: this.ref("escalation_policy", policy),
      teams: [],
      priority: input.priority,
      urgency: input.urgency,
      resolve_reason: null,
      alert_counts: { all: 0, triggered: 0, resolved: 0 },
      incident_type: { name: "incident_default" },
      conference_bridge: null,
      ...(input.details === undefined ? {} : { body: { type: "incident_body", details: input.details } })
    }
    this.incidents.push(incident)
    const trigger = this.addLogEntry(incident, "trigger_log_entry", "Triggered through the API", input.agent, input.now)
    incident.first_trigger_log_entry = { ...trigger, type: "trigger_log_entry_reference" }
    if (input.status !== "triggered") this.setStatus(incident, input.status, input.agent, input.now, undefined)
    return incident
  }

  private setStatus(
    incident: Json,
    status: "triggered" | "acknowledged" | "resolved",
    agent: Json | null,
    now: number,
    resolution: string | undefined
  ) {
    if (incident.status === status) return
    const at = iso(now)
    incident.status = status
    incident.updated_at = at
    incident.last_status_change_at = at
    incident.last_status_change_by = agent
    if (status === "acknowledged" && agent !== null) {
      incident.acknowledgements = [{ at, acknowledger: agent }]
    }
    if (status === "resolved") {
      incident.resolved_at = at
      incident.assignments = []
    } else {
      incident.resolved_at = null
    }
    const kinds = { triggered: "trigger", acknowledged: "acknowledge", resolved: "resolve" } as const
    const kind = kinds[status]
    this.addLogEntry(incident, `${kind}_log_entry`, `${kind} through the API`, agent, now, {
      ...(resolution === undefined ? {} : { note: resolution })
    })
  }

  /** Creates an incident from a `POST /incidents` body. */
  createIncident(body: unknown, requester: Json, now: number): Json | Rejection {
    const incident = isObject(body) ? body.incident : undefined
    if (!isObject(incident)) return invalid("incident is missing")
    if (incident.type !== "incident") return invalid("incident.type must be \"incident\"")
    if (typeof incident.title !== "string" || incident.title === "") return invalid("incident.title is missing")

    const serviceId = isObject(incident.service) ? incident.service.id : undefined
    const service = typeof serviceId === "string" ? this.find(this.services, serviceId) : undefined
    if (service === undefined) return invalid("incident.service must reference an existing service")
    if (incident.assignments !== undefined && incident.escalation_policy !== undefined) {
      return invalid("assignments cannot be combined with escalation_policy")
    }

    const key = typeof incident.incident_key === "string" ? incident.incident_key : undefined
    if (key !== undefined) {
      const open = this.incidents.find((other) =>
        other.incident_key === key && (other.service as Json).id === service.id && other.status !== "resolved"
      )
      if (open !== undefined) return invalid("Open incident with matching dedup key already exists on this service")
    }

    const priorityId = isObject(incident.priority) ? incident.priority.id : undefined
    const priority = typeof priorityId === "string" ? this.find(this.priorities, priorityId) : undefined
    if (priorityId !== undefined && priority === undefined) return invalid("incident.priority must exist")
    const details = isObject(incident.body) ? incident.body.details : undefined
    return this.insertIncident({
      title: incident.title,
      service,
      status: "triggered",
      urgency: incident.urgency === "low" ? "low" : "high",
      incidentKey: key,
      priority: priority === undefined ? null : this.ref("priority", priority),
      details,
      now,
      agent: this.userRef(requester)
    })
  }

  /** Applies one incident update of `PUT /incidents/{id}` or `PUT /incidents`. */
  updateIncident(id: string, update: unknown, requester: Json, now: number): Json | Rejection {
    const incident = this.find(this.incidents, id)
    if (incident === undefined) return notFound
    if (!isObject(update)) return invalid("incident is missing")
    if (update.type !== "incident" && update.type !== "incident_reference") {
      return invalid("type must be \"incident\" or \"incident_reference\"")
    }
    const agent = this.userRef(requester)
    if (update.status !== undefined) {
      if (update.status !== "triggered" && update.status !== "acknowledged" && update.status !== "resolved") {
        return invalid(`status ${String(update.status)} is not one of triggered, acknowledged, resolved`)
      }
      const resolution = typeof update.resolution === "string" ? update.resolution : undefined
      this.setStatus(incident, update.status, agent, now, resolution)
    }
    if (typeof update.title === "string") incident.title = update.title
    if (update.urgency === "high" || update.urgency === "low") incident.urgency = update.urgency
    if (update.priority !== undefined) {
      const priority = typeof update.priority === "string"
        ? this.priorities.find((candidate) => candidate.name === update.priority)
        : isObject(update.priority) && typeof update.priority.id === "string"
        ? this.find(this.priorities, update.priority.id)
        : undefined
      if (priority === undefined) return invalid("priority must reference an existing priority")
      incident.priority = this.ref("priority", priority)
    }
    incident.updated_at = iso(now)
    return incident
  }

  /** Adds a note to an incident. */
  addNote(id: string, body: unknown, requester: Json, now: number): Json | Rejection {
    const incident = this.find(this.incidents, id)
    if (incident === undefined) return notFound
    const note = isObject(body) ? body.note : undefined
    if (!isObject(note) || typeof note.content !== "string" || note.content === "") {
      return invalid("note.content is missing")
    }
    const created: Json = {
      id: `PNOT${pad(this.nextNote++)}`,
      user: this.userRef(requester),
      channel: { summary: "The PagerDuty website or APIs" },
      content: note.content,
      created_at: iso(now),
      updated_at: iso(now)
    }
    const notes = this.notes.get(id) ?? []
    notes.push(created)
    this.notes.set(id, notes)
    this.addLogEntry(incident, "annotate_log_entry", "Note added", this.userRef(requester), now, {
      note: note.content
    })
    return created
  }

  /** Merges source incidents into a target and resolves the sources. */
  merge(targetId: string, body: unknown, requester: Json, now: number): Json | Rejection {
    const target = this.find(this.incidents, targetId)
    if (target === undefined) return notFound
    if (target.status === "resolved") return invalid("The target incident must be open")
    const sources = isObject(body) ? body.source_incidents : undefined
    if (!Array.isArray(sources) || sources.length === 0) return invalid("source_incidents is missing")
    const found: Array<Json> = []
    for (const source of sources) {
      const incident = isObject(source) && typeof source.id === "string"
        ? this.find(this.incidents, source.id)
        : undefined
      if (incident === undefined) return invalid("every source incident must exist")
      if (incident.id === target.id) return invalid("an incident cannot be merged into itself")
      found.push(incident)
    }
    for (const incident of found) this.setStatus(incident, "resolved", this.userRef(requester), now, undefined)
    target.updated_at = iso(now)
    return reference("incident", target.id as string, target.summary as string, "incidents")
  }
}

/** Tells whether a value is a plain JSON object. */
export const isObject = (u: unknown): u is Json => typeof u === "object" && u !== null && !Array.isArray(u)

/** Tells whether a store result is a rejection. */
export const isRejection = (u: Json | Rejection): u is Rejection => u._tag === "Rejection"
