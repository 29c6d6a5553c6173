/**
 * Sample `data` objects of PagerDuty v3 webhook events, one per data type, as
 * published in PagerDuty's webhook overview (developer-docs
 * `docs/webhooks/01-Overview.md`), and the event type to data type table of
 * the same page.
 */
export const eventDataTypes: Readonly<Record<string, string>> = {
  "incident.acknowledged": "incident",
  "incident.annotated": "incident_note",
  "incident.conference_bridge.updated": "incident_conference_bridge",
  "incident.custom_field_values.updated": "incident_field_values",
  "incident.delegated": "incident",
  "incident.escalated": "incident",
  "incident.incident_type.changed": "incident",
  "incident.priority_updated": "incident",
  "incident.reassigned": "incident",
  "incident.reopened": "incident",
  "incident.resolved": "incident",
  "incident.responder.added": "incident_responder",
  "incident.responder.replied": "incident_responder",
  "incident.role.assigned": "incident_role_assignment",
  "incident.service_updated": "incident",
  "incident.status_update_published": "incident_status_update",
  "incident.task.completed": "incident_task",
  "incident.task.created": "incident_task",
  "incident.task.updated": "incident_task",
  "incident.triggered": "incident",
  "incident.unacknowledged": "incident",
  "incident.action_invocation.created": "incident_action_invocation",
  "incident.action_invocation.terminated": "incident_action_invocation",
  "incident.action_invocation.updated": "incident_action_invocation",
  "incident.workflow.started": "incident_workflow_instance",
  "incident.workflow.completed": "incident_workflow_instance",
  "service.created": "service",
  "service.custom_field_values.updated": "service_field_values",
  "service.deleted": "service",
  "service.updated": "service"
}

export const sampleData: Readonly<Record<string, unknown>> = {
  "incident": {
    "id": "PGR0VU2",
    "type": "incident",
    "self": "https://api.pagerduty.com/incidents/PGR0VU2",
    "html_url": "https://acme.pagerduty.com/incidents/PGR0VU2",
    "number": 2,
    "status": "triggered",
    "incident_key": "d3640fbd41094207a1c11e58e46b1662",
    "created_at": "2020-04-09T15:16:27Z",
    "reopened_at": "2020-10-02T18:45:22Z",
    "title": "A little bump in the road",
    "incident_type": {
      "name": "major"
    },
    "service": {
      "html_url": "https://acme.pagerduty.com/services/PF9KMXH",
      "id": "PF9KMXH",
      "self": "https://api.pagerduty.com/services/PF9KMXH",
      "summary": "API Service",
      "type": "service_reference"
    },
    "assignees": [
      {
        "html_url": "https://acme.pagerduty.com/users/PTUXL6G",
        "id": "PTUXL6G",
        "self": "https://api.pagerduty.com/users/PTUXL6G",
        "summary": "User 123",
        "type": "user_reference"
      }
    ],
    "escalation_policy": {
      "html_url": "https://acme.pagerduty.com/escalation_policies/PUS0KTE",
      "id": "PUS0KTE",
      "self": "https://api.pagerduty.com/escalation_policies/PUS0KTE",
      "summary": "Default",
      "type": "escalation_policy_reference"
    },
    "teams": [
      {
        "html_url": "https://acme.pagerduty.com/teams/PFCVPS0",
        "id": "PFCVPS0",
        "self": "https://api.pagerduty.com/teams/PFCVPS0",
        "summary": "Engineering",
        "type": "team_reference"
      }
    ],
    "priority": {
      "html_url": "https://acme.pagerduty.com/account/incident_priorities",
      "id": "PSO75BM",
      "self": "https://api.pagerduty.com/priorities/PSO75BM",
      "summary": "P1",
      "type": "priority_reference"
    },
    "urgency": "high",
    "conference_bridge": {
      "conference_number": "+1 1234123412,,987654321#",
      "conference_url": "https://example.com"
    },
    "resolve_reason": null
  },
  "incident_conference_bridge": {
    "incident": {
      "html_url": "https://acme.pagerduty.com/incidents/PGR0VU2",
      "id": "PGR0VU2",
      "self": "https://api.pagerduty.com/incidents/PGR0VU2",
      "summary": "Major incident - customer shopping cart screen",
      "type": "incident_reference"
    },
    "conference_numbers": [
      {
        "label": "",
        "number": "+1-555-555-5555"
      }
    ],
    "conference_url": "https://example.com",
    "type": "incident_conference_bridge"
  },
  "incident_field_values": {
    "incident": {
      "html_url": "https://acme.pagerduty.com/incidents/PBAZLIU",
      "id": "PBAZLIU",
      "self": "https://api.pagerduty.com/incidents/PBAZLIU",
      "summary": null,
      "type": "incident_reference"
    },
    "custom_fields": [
      {
        "data_type": "string",
        "field_type": "single_value",
        "id": "PICFVXX",
        "name": "environment",
        "namespace": "incidents",
        "type": "field_value",
        "value": "production"
      },
      {
        "data_type": "string",
        "field_type": "single_value",
        "id": "PF3UUI7",
        "name": "region",
        "namespace": "incidents",
        "type": "field_value",
        "value": "US"
      }
    ],
    "changed_custom_fields": [
      {
        "data_type": "string",
        "field_type": "single_value",
        "id": "PICFVXX",
        "name": "environment",
        "namespace": "incidents",
        "type": "field_value",
        "value": "staging"
      }
    ],
    "type": "incident_field_values"
  },
  "incident_note": {
    "incident": {
      "html_url": "https://acme.pagerduty.com/incidents/PGR0VU2",
      "id": "PGR0VU2",
      "self": "https://api.pagerduty.com/incidents/PGR0VU2",
      "summary": "A little bump in the road",
      "type": "incident_reference"
    },
    "id": "P2LA89X",
    "content": "I sure am glad we are using PagerDuty!",
    "trimmed": false,
    "type": "incident_note"
  },
  "incident_role_assignment": {
    "type": "incident_role_assignment",
    "incident_role_assignments": [
      {
        "assignee": {
          "html_url": "https://acme.pagerduty.com/users/P75B6QD",
          "id": "P75B6QD",
          "self": "https://api.pagerduty.com/users/P75B6QD",
          "summary": "User 1810194",
          "type": "user_reference"
        },
        "id": "af64b84c-137e-40c6-875c-5dd30a2afaaa",
        "incident": {
          "html_url": "https://acme.pagerduty.com/incidents/PBAZLIU",
          "id": "PBAZLIU",
          "self": "https://api.pagerduty.com/incidents/PBAZLIU",
          "summary": null,
          "type": "incident_reference"
        },
        "old_assignee": null,
        "role": {
          "id": "P8PQO4R",
          "summary": "Role Display Name",
          "type": "role_reference"
        },
        "status": "active",
        "type": "role_assignment_reference"
      }
    ]
  },
  "incident_status_update": {
    "incident": {
      "html_url": "https://acme.pagerduty.com/incidents/PGR0VU2",
      "id": "PGR0VU2",
      "self": "https://api.pagerduty.com/incidents/PGR0VU2",
      "summary": "A little bump in the road",
      "type": "incident_reference"
    },
    "id": "P2LA89X",
    "message": "A fix for this incident is being developed",
    "trimmed": false,
    "type": "incident_status_update"
  },
  "incident_responder": {
    "incident": {
      "html_url": "https://acme.pagerduty.com/incidents/PGR0VU2",
      "id": "PGR0VU2",
      "self": "https://api.pagerduty.com/incidents/PGR0VU2",
      "summary": "A little bump in the road",
      "type": "incident_reference"
    },
    "user": {
      "html_url": "https://acme.pagerduty.com/users/PVMGSML",
      "id": "PVMGSML",
      "self": "https://api.pagerduty.com/users/PVMGSML",
      "summary": "Maeve",
      "type": "user_reference"
    },
    "escalation_policy": {
      "html_url": "https://acme.pagerduty.com/escalation_policies/PJFWPEP",
      "id": "PJFWPEP",
      "self": "https://api.pagerduty.com/escalation_policies/PJFWPEP",
      "summary": "The Policy",
      "type": "escalation_policy_reference"
    },
    "message": "Please help me make the tests pass",
    "state": "pending",
    "type": "incident_responder"
  },
  "incident_task": {
    "name": "A thing that needs to be done",
    "description": "A description of the task",
    "id": "PGR0VU2",
    "summary": "A thing that needs to be done",
    "type": "incident_task",
    "status": "todo",
    "assignees": [
      {
        "html_url": "https://acme.pagerduty.com/users/PIV35G6",
        "id": "PIV35G6",
        "self": "https://api.pagerduty.com/users/PIV35G6",
        "summary": "User 661768438",
        "type": "user_reference"
      }
    ],
    "incident": {
      "html_url": "https://acme.pagerduty.com/incidents/Q0SDD3HB6SGFTI",
      "id": "Q0SDD3HB6SGFTI",
      "self": "https://api.pagerduty.com/incidents/Q0SDD3HB6SGFTI",
      "summary": null,
      "type": "incident_reference"
    }
  },
  "incident_workflow_instance": {
    "id": "P3SNKQS",
    "type": "incident_workflow_instance",
    "summary": "A Workflow Instance Name",
    "incident_workflow": {
      "html_url": "https://acme.pagerduty.com/incident-workflows/workflows/PSFEVL7",
      "id": "PSFEVL7",
      "self": "https://api.pagerduty.com/incident_workflows/PSFEVL7",
      "summary": "A Workflow Name",
      "type": "incident_workflow_reference"
    },
    "workflow_trigger": {
      "html_url": null,
      "id": "4ad696eb-bb48-422a-8bd0-6efad6befa29",
      "self": "https://api.pagerduty.com/incident_workflows/triggers/4ad696eb-bb48-422a-8bd0-6efad6befa29",
      "summary": "Trigger Name",
      "type": "workflow_trigger_reference"
    },
    "incident": {
      "html_url": "https://acme.pagerduty.com/incidents/PBAZLIU",
      "id": "PBAZLIU",
      "self": "https://api.pagerduty.com/incidents/PBAZLIU",
      "summary": "A little bump in the road",
      "type": "incident_reference"
    },
    "service": {
      "html_url": "https://acme.pagerduty.com/services/PF9KMXH",
      "id": "PF9KMXH",
      "self": "https://api.pagerduty.com/services/PF9KMXH",
      "summary": "A service",
      "type": "service_reference"
    }
  },
  "service": {
    "html_url": "https://acme.pagerduty.com/services/PF9KMXH",
    "id": "PF9KMXH",
    "self": "https://api.pagerduty.com/services/PF9KMXH",
    "summary": "testing service updates",
    "alert_creation": "create_alerts_and_incidents",
    "teams": [
      {
        "html_url": "https://acme.pagerduty.com/teams/PFCVPS0",
        "id": "PFCVPS0",
        "self": "https://api.pagerduty.com/teams/PFCVPS0",
        "summary": "Engineering",
        "type": "team_reference"
      }
    ],
    "type": "service"
  },
  "service_field_values": {
    "service": {
      "html_url": "https://acme.pd-staging.com/services/PY0TW31",
      "id": "PY0TW31",
      "self": "https://api.pd-staging.com/services/PY0TW31",
      "summary": null,
      "type": "service_reference"
    },
    "custom_fields": [
      {
        "data_type": "string",
        "field_type": "multi_value",
        "id": "P0CU101",
        "name": "string_multi_example_1",
        "type": "field_value",
        "value": [
          "1",
          "2"
        ]
      },
      {
        "data_type": "string",
        "field_type": "single_value",
        "id": "P7DNIMB",
        "name": "example_field",
        "type": "field_value",
        "value": "Some new value"
      }
    ],
    "changed_custom_fields": [
      {
        "data_type": "string",
        "field_type": "single_value",
        "id": "P7DNIMB",
        "name": "example_field",
        "type": "field_value",
        "value": "Some old value"
      }
    ],
    "type": "service_field_values"
  },
  "incident_action_invocation": {
    "id": "01CELD6T9C2JS745I7CAK0LRRF",
    "self": "https://api.pagerduty.com/automation/invocations/01CELD6T9C2JS745I7CAK0LRRF",
    "html_url":
      "https://acme.pagerduty.com/rundeck-actions/actions/01CDYN0IRV4VG991K5FR73YNTW/invocations/01CELD6T9C2JS745I7CAK0LRRF/report",
    "incident": {
      "html_url": "https://acme.pagerduty.com/incidents/PBAZLIU",
      "id": "PBAZLIU",
      "self": "https://api.pagerduty.com/incidents/PBAZLIU",
      "summary": "An Incident",
      "type": "incident_reference"
    },
    "action": {
      "html_url": "https://acme.pagerduty.com/rundeck-actions/actions/01CDYN0IRV4VG991K5FR73YNTW",
      "id": "01CDYN0IRV4VG991K5FR73YNTW",
      "self": "https://api.pagerduty.com/automation/actions/01CDYN0IRV4VG991K5FR73YNTW",
      "summary": "A Helpful Action",
      "type": "action_reference"
    },
    "state": "created",
    "type": "incident_action_invocation"
  },
  "ping": {
    "message": "Hello from your friend Pagey!",
    "type": "ping"
  }
}
