/// The controller API's OpenAPI document, served at `GET /openapi.yaml` and kept as `docs/openapi.yaml` (a test checks
/// that the two are the same and that every path it lists is served).
enum OpenAPIDocument {
    static let yaml = """
        openapi: 3.1.0
        info:
          title: Setpoint controller API
          version: "1"
          description: >-
            Health, readiness, metrics, resources, plans with their approval, backup runs, and the audit log of a running
            `setpoint controller`. Bearer tokens (roles viewer, approver, admin) from the controller's tokens file;
            errors are JSON objects {"error": "…"}.
        servers:
          - url: http://127.0.0.1:9797
        components:
          securitySchemes:
            bearer:
              type: http
              scheme: bearer
          schemas:
            Error:
              type: object
              properties:
                error: {type: string}
              required: [error]
          responses:
            Unauthorized:
              description: No token, or a token that is not in the tokens file.
              content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}
            Forbidden:
              description: The token's role is too low, or four-eyes refuses the approver.
              content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}
            TooManyRequests:
              description: Over 20 requests a second for this token, or 50 a second from this client address.
              content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}
            PayloadTooLarge:
              description: A request body over 64 KiB.
              content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}
        security:
          - bearer: []
        paths:
          /healthz:
            get:
              summary: The process runs.
              security: []
              responses:
                "200": {description: "ok", content: {text/plain: {}}}
          /readyz:
            get:
              summary: A pass has loaded the manifests; says whether this controller leads, the commit reconciled and any git problem.
              security: []
              responses:
                "200": {description: Ready, content: {application/json: {}}}
                "503": {description: Not ready, with the problems, content: {application/json: {}}}
          /metrics:
            get:
              summary: Prometheus metrics (passes, pass durations, last success, drift, pending approvals, resources by status, actions, provider requests and errors, leader, commit; per BackupPolicy setpoint_backup_* — last successful backup per type, archive wait, archiving failing, last drill duration and outcome, compliance, next run, running).
              security: []
              responses:
                "200": {description: Metrics, content: {text/plain: {}}}
          /openapi.yaml:
            get:
              summary: This document.
              security: []
              responses:
                "200": {description: The document, content: {application/yaml: {}}}
          /api/v1/resources:
            get:
              summary: Every declared resource's status in the last pass (viewer).
              parameters:
                - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 1000, default: 100}}
                - {name: after, in: query, description: The last resource of the previous page (Kind/name), schema: {type: string}}
              responses:
                "200": {description: "items: resource, status, lastError, nextRetry; next when there is more", content: {application/json: {}}}
                "401": {$ref: "#/components/responses/Unauthorized"}
                "429": {$ref: "#/components/responses/TooManyRequests"}
          /api/v1/resources/{kind}/{name}/explain:
            get:
              summary: What the last pass did with one resource, and why (viewer).
              parameters:
                - {name: kind, in: path, required: true, schema: {type: string}}
                - {name: name, in: path, required: true, schema: {type: string}}
              responses:
                "200": {description: "Status, last error, applied, waiting and held actions, failures, nextRetry, and the Ready and Synced conditions the leading controller recorded (type, status, reason, message, lastTransitionTime)", content: {application/json: {}}}
                "401": {$ref: "#/components/responses/Unauthorized"}
                "404": {description: Not declared, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
                "429": {$ref: "#/components/responses/TooManyRequests"}
          /api/v1/plans:
            get:
              summary: Plans, newest first (viewer).
              parameters:
                - {name: status, in: query, schema: {type: string, enum: [pending, approved, rejected, applied, stale]}}
                - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 500, default: 50}}
                - {name: after, in: query, description: The last plan id of the previous page, schema: {type: string}}
              responses:
                "200": {description: "items: id, status, createdAt; next when there is more", content: {application/json: {}}}
                "401": {$ref: "#/components/responses/Unauthorized"}
                "429": {$ref: "#/components/responses/TooManyRequests"}
          /api/v1/plans/{id}:
            get:
              summary: One plan, as text or (Accept application/json) as its JSON (viewer).
              parameters:
                - {name: id, in: path, required: true, schema: {type: string}}
              responses:
                "200": {description: The plan, content: {text/plain: {}, application/json: {}}}
                "401": {$ref: "#/components/responses/Unauthorized"}
                "404": {description: No such plan, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
                "429": {$ref: "#/components/responses/TooManyRequests"}
          /api/v1/plans/{id}/approve:
            post:
              summary: Approve a pending plan; the next pass applies it (approver; audited).
              parameters:
                - {name: id, in: path, required: true, schema: {type: string}}
              requestBody:
                content:
                  application/json:
                    schema: {type: object, properties: {reason: {type: string, description: Recorded in the audit log}}}
              responses:
                "200": {description: Approved, content: {application/json: {}}}
                "401": {$ref: "#/components/responses/Unauthorized"}
                "403": {$ref: "#/components/responses/Forbidden"}
                "409": {description: The plan is not pending, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
                "413": {$ref: "#/components/responses/PayloadTooLarge"}
                "429": {$ref: "#/components/responses/TooManyRequests"}
          /api/v1/plans/{id}/reject:
            post:
              summary: Reject a pending plan, with a reason (approver; audited).
              parameters:
                - {name: id, in: path, required: true, schema: {type: string}}
              requestBody:
                required: true
                content:
                  application/json:
                    schema: {type: object, properties: {reason: {type: string}}, required: [reason]}
              responses:
                "200": {description: Rejected, content: {application/json: {}}}
                "400": {description: No reason given, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
                "401": {$ref: "#/components/responses/Unauthorized"}
                "403": {$ref: "#/components/responses/Forbidden"}
                "409": {description: The plan is not pending, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
                "413": {$ref: "#/components/responses/PayloadTooLarge"}
                "429": {$ref: "#/components/responses/TooManyRequests"}
          /api/v1/audit:
            get:
              summary: Audit records after a sequence number (viewer).
              parameters:
                - {name: after, in: query, schema: {type: integer, default: 0}}
                - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 1000, default: 100}}
              responses:
                "200": {description: "items: seq, time, actor, event, planID, actionID, resource, result, detail, hash; next when there is more", content: {application/json: {}}}
                "401": {$ref: "#/components/responses/Unauthorized"}
                "429": {$ref: "#/components/responses/TooManyRequests"}
          /api/v1/backups:
            get:
              summary: Recorded backup, dump and drill runs, newest first, with the runs in progress and when each schedule next runs (viewer).
              parameters:
                - {name: policy, in: query, description: One BackupPolicy's name, schema: {type: string}}
                - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 500, default: 50}}
              responses:
                "200": {description: "items: runs (id, policy, kind, startedAt, finishedAt, seconds, outcome, label, sizeBytes, repositoryBytes, message, trigger); running: jobs; next: policy → type → time", content: {application/json: {}}}
                "401": {$ref: "#/components/responses/Unauthorized"}
                "429": {$ref: "#/components/responses/TooManyRequests"}
          /api/v1/backups/{policy}/runs:
            post:
              summary: Start a backup, logical dump or drill of a BackupPolicy now, in the leading controller (approver; recorded and audited with the token's identity).
              parameters:
                - {name: policy, in: path, required: true, schema: {type: string}}
              requestBody:
                content:
                  application/json:
                    schema:
                      type: object
                      properties:
                        type: {type: string, enum: [full, diff, incr, logical, drill], default: incr}
                        targetTime: {type: string, description: "A drill's point in time (2026-12-06T10:15:00Z)"}
              responses:
                "202": {description: "Started: job, policy, type, trigger, startedAt, status running", content: {application/json: {}}}
                "400": {description: An unknown type, or a target time for a backup, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
                "401": {$ref: "#/components/responses/Unauthorized"}
                "403": {$ref: "#/components/responses/Forbidden"}
                "404": {description: No such policy in the controller's manifests, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
                "409": {description: A run of the policy is in progress, or a pass is applying actions on its cluster, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
                "413": {$ref: "#/components/responses/PayloadTooLarge"}
                "429": {$ref: "#/components/responses/TooManyRequests"}
                "503": {description: This controller follows; the error names the leader, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
          /api/v1/backups/jobs/{job}:
            get:
              summary: A run started by the schedules or the API, while it runs and after (the last 100, in memory) (viewer).
              parameters:
                - {name: job, in: path, required: true, schema: {type: string}}
              responses:
                "200": {description: "job, policy, type, trigger, startedAt, status (running, succeeded, failed), run when done, error when none could be made", content: {application/json: {}}}
                "401": {$ref: "#/components/responses/Unauthorized"}
                "404": {description: No such job, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
                "429": {$ref: "#/components/responses/TooManyRequests"}
          /api/v1/operations:
            post:
              summary: "An operator command on a declared resource, carried out by the leading controller under its lease (admin; audited with the token's identity): PostgresCluster failover (arguments.to) and reinit (arguments.member), import of any managed kind (arguments.id)."
              requestBody:
                content:
                  application/json:
                    schema:
                      type: object
                      required: [resource, command]
                      properties:
                        resource: {type: string, description: "KIND/NAME, e.g. PostgresCluster/main"}
                        command: {type: string, enum: [failover, reinit, import], description: "import takes any managed kind (arguments.id: the provider's id, optional)"}
                        arguments: {type: object, additionalProperties: {type: string}}
              responses:
                "202": {description: "Started: job, command, resource, arguments, by, startedAt, status running", content: {application/json: {}}}
                "400": {description: An unknown command, or its arguments are missing, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
                "401": {$ref: "#/components/responses/Unauthorized"}
                "403": {$ref: "#/components/responses/Forbidden"}
                "404": {description: The resource is not in the controller's manifests, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
                "409": {description: A pass applies actions in its lock domain, or another command or run holds it, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
                "413": {$ref: "#/components/responses/PayloadTooLarge"}
                "429": {$ref: "#/components/responses/TooManyRequests"}
                "503": {description: This controller follows; the error names the leader, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
          /api/v1/operations/{job}:
            get:
              summary: An operator command, while it runs and after (the last 100, in memory) (viewer).
              parameters:
                - {name: job, in: path, required: true, schema: {type: string}}
              responses:
                "200": {description: "job, command, resource, arguments, by, startedAt, finishedAt, status (running, succeeded, failed), lines it printed, error", content: {application/json: {}}}
                "401": {$ref: "#/components/responses/Unauthorized"}
                "404": {description: No such job, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
                "429": {$ref: "#/components/responses/TooManyRequests"}
          /api/v1/passes:
            post:
              summary: "A pass now, for setpoint apply --controller (approver; audited as apply-requested with the token's identity): the leading controller's loop is woken and the answer waits, 15 minutes at most, for a pass that started after the request."
              responses:
                "200": {description: "What that pass did: plan, applied, failed, waiting, pendingPlan, held, drift, errors, commit", content: {application/json: {}}}
                "401": {$ref: "#/components/responses/Unauthorized"}
                "403": {$ref: "#/components/responses/Forbidden"}
                "413": {$ref: "#/components/responses/PayloadTooLarge"}
                "429": {$ref: "#/components/responses/TooManyRequests"}
                "503": {description: This controller follows; the error names the leader, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
                "504": {description: No pass finished within 15 minutes, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
          /api/v1/webhooks/github:
            post:
              summary: "A GitHub webhook delivery (no token: X-Hub-Signature-256, HMAC-SHA256 of the body with --webhook-secret). A push to the followed branch starts a pass at once; X-GitHub-Delivery ids are taken once."
              requestBody:
                content:
                  application/json:
                    schema: {type: object, properties: {ref: {type: string, description: "refs/heads/BRANCH"}}}
              responses:
                "200": {description: "Verified, nothing to do (a ping, another event, another branch): accepted false and why", content: {application/json: {}}}
                "202": {description: "A push to the followed branch: accepted true, a pass starts now", content: {application/json: {}}}
                "400": {description: A push whose body has no ref, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
                "401": {description: No signature, or one that does not match the body, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
                "404": {description: Webhooks are not configured (--webhook-secret), content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
                "409": {description: A delivery id taken before (a replay), content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
                "413": {$ref: "#/components/responses/PayloadTooLarge"}
          /api/v1/webhooks/gitlab:
            post:
              summary: "A GitLab webhook delivery (no token: X-Gitlab-Token, compared in constant time with --webhook-secret). A Push Hook to the followed branch starts a pass at once; X-Gitlab-Event-UUID ids are taken once."
              requestBody:
                content:
                  application/json:
                    schema: {type: object, properties: {ref: {type: string, description: "refs/heads/BRANCH"}}}
              responses:
                "200": {description: "Verified, nothing to do (another event, another branch): accepted false and why", content: {application/json: {}}}
                "202": {description: "A push to the followed branch: accepted true, a pass starts now", content: {application/json: {}}}
                "400": {description: A push whose body has no ref, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
                "401": {description: No X-Gitlab-Token, or not the secret, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
                "404": {description: Webhooks are not configured (--webhook-secret), content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
                "409": {description: A delivery id taken before (a replay), content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
                "413": {$ref: "#/components/responses/PayloadTooLarge"}

        """
}
