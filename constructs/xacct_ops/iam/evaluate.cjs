#!/usr/bin/env node
// Evaluates IAM requests with @cloud-copilot/iam-simulate (an independent engine: identity policies,
// resource policies, KMS key policies, cross-account rules, every condition operator), for
// `make policy-check` (tests/harness/policy_check.py writes the requests, reads the answers).
//
//   node constructs/xacct_ops/iam/evaluate.cjs requests.json > answers.json
//
// requests.json: [{principal, action, resource, resourceAccount, context, identityPolicies: [{name, policy}],
//                  resourcePolicy}] ; answers.json: [{result, identity, resource, allowedBy, deniedBy, errors}]
//
// The engine's public runSimulation validates the policies and the request, but drops context keys
// of the form kms:EncryptionContext:<key> (it matches only "/"-style variable keys), so a condition on
// the encryption context S3, SQS or CloudWatch Logs send would always deny. So each request is
// validated with runSimulation and decided by the engine's core `authorize`, which keeps the whole
// context (what its runUnsafeSimulation does, with the resource policy named so it can report on it).
'use strict';
const fs = require('fs');
const path = require('path');
const { runSimulation } = require('@cloud-copilot/iam-simulate');
const { loadPolicy } = require('@cloud-copilot/iam-policy');

// The package exports only its entry point; these modules are loaded by file path (pinned version).
const dist = path.dirname(require.resolve('@cloud-copilot/iam-simulate'));
const { authorize } = require(path.join(dist, 'core_engine/CoreSimulatorEngine.js'));
const { AwsRequestImpl } = require(path.join(dist, 'request/request.js'));
const { RequestContextImpl } = require(path.join(dist, 'requestContext.js'));
const { DiscoveryContextKeyConstraints } = require(path.join(dist, 'context_keys/discoveryContextKeyConstraints.js'));

function statementIds(analysis, key) {
  return ((analysis && analysis[key]) || []).map((s) => `${s.policyId ? s.policyId + ':' : ''}${(s.statement.sid && s.statement.sid()) || '(no Sid)'}`);
}

async function evaluate(req) {
  const simulation = {
    request: {
      principal: req.principal,
      action: req.action,
      resource: { resource: req.resource, accountId: req.resourceAccount },
      contextVariables: req.context || {},
    },
    identityPolicies: req.identityPolicies || [],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: req.resourcePolicy || undefined,
  };
  const errors = [];
  const validated = await runSimulation(simulation, {});
  if (validated.resultType === 'error') {
    errors.push(validated.errors.message, JSON.stringify(validated.errors));
  }
  const request = new AwsRequestImpl(simulation.request.principal, simulation.request.resource, req.action, new RequestContextImpl(simulation.request.contextVariables));
  const analysis = authorize({
    request,
    sessionPolicy: undefined,
    identityPolicies: simulation.identityPolicies.map((p) => loadPolicy(p.policy, { name: p.name })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: req.resourcePolicy ? loadPolicy(req.resourcePolicy, { name: 'resource policy' }) : undefined,
    permissionBoundaries: undefined,
    vpcEndpointPolicies: undefined,
    simulationParameters: { simulationMode: 'Strict', discoveryContextKeyConstraints: new DiscoveryContextKeyConstraints([]) },
    serviceSettings: { s3: {} },
  });
  return {
    result: analysis.result,
    identity: analysis.identityAnalysis ? analysis.identityAnalysis.result : null,
    resource: analysis.resourceAnalysis ? analysis.resourceAnalysis.result : null,
    allowedBy: [...statementIds(analysis.identityAnalysis, 'allowStatements').map((s) => `identity ${s}`),
                ...statementIds(analysis.resourceAnalysis, 'allowStatements').map((s) => `resource ${s}`)],
    deniedBy: [...statementIds(analysis.identityAnalysis, 'denyStatements').map((s) => `identity ${s}`),
               ...statementIds(analysis.resourceAnalysis, 'denyStatements').map((s) => `resource ${s}`)],
    errors,
  };
}

(async () => {
  const requests = JSON.parse(fs.readFileSync(process.argv[2] || 0, 'utf8'));
  const answers = [];
  for (const req of requests) {
    try {
      answers.push(await evaluate(req));
    } catch (err) {
      answers.push({ result: 'Error', identity: null, resource: null, allowedBy: [], deniedBy: [], errors: [String(err && err.stack || err)] });
    }
  }
  process.stdout.write(JSON.stringify(answers));
})();
