/**
 * The field rules of the in-toto Statement v1 and SLSA provenance v1 schemas,
 * written out independently of src/audit/provenance.ts so that the tests check
 * strata's statements against the specifications, not against themselves.
 *
 * in-toto Statement v1: https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md
 * ResourceDescriptor:   https://github.com/in-toto/attestation/blob/main/spec/v1/resource_descriptor.md
 * SLSA provenance v1:   https://slsa.dev/spec/v1.0/provenance
 * Unknown fields are reported as well: the specifications allow them, but a
 * strata statement has no reason to carry any, and a typo would otherwise pass.
 */
type Json = unknown;

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const URI = /^[a-zA-Z][a-zA-Z0-9+.-]*:\S+$/;
const HEX = /^[0-9a-f]+$/;
const DIGEST_LENGTHS: Record<string, number> = { sha256: 64, sha512: 128, sha1: 40, gitCommit: 40 };

function isObject(value: Json): value is Record<string, Json> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

class Checker {
  readonly problems: string[] = [];
  fail(path: string, message: string): void {
    this.problems.push(`${path}: ${message}`);
  }
  fields(path: string, value: Record<string, Json>, required: string[], optional: string[]): void {
    for (const key of required) if (!(key in value)) this.fail(path, `missing required field ${key}`);
    for (const key of Object.keys(value)) if (!required.includes(key) && !optional.includes(key)) this.fail(path, `unknown field ${key}`);
  }
  string(path: string, value: Json, pattern?: RegExp): void {
    if (typeof value !== 'string' || value === '') this.fail(path, 'must be a non-empty string');
    else if (pattern && !pattern.test(value)) this.fail(path, `does not match ${pattern}`);
  }
  stringMap(path: string, value: Json): void {
    if (!isObject(value)) return this.fail(path, 'must be an object of strings');
    for (const [k, v] of Object.entries(value)) if (typeof v !== 'string') this.fail(`${path}.${k}`, 'must be a string');
  }
  object(path: string, value: Json): value is Record<string, Json> {
    if (!isObject(value)) {
      this.fail(path, 'must be an object');
      return false;
    }
    return true;
  }
  digest(path: string, value: Json): void {
    if (!isObject(value) || Object.keys(value).length === 0) return this.fail(path, 'must be a non-empty map of algorithm to hex digest');
    for (const [algorithm, hex] of Object.entries(value)) {
      if (typeof hex !== 'string' || !HEX.test(hex)) this.fail(`${path}.${algorithm}`, 'must be lowercase hex');
      else if (DIGEST_LENGTHS[algorithm] !== undefined && hex.length !== DIGEST_LENGTHS[algorithm]) this.fail(`${path}.${algorithm}`, `must be ${DIGEST_LENGTHS[algorithm]} hex digits`);
    }
  }
  resourceDescriptor(path: string, value: Json): void {
    if (!this.object(path, value)) return;
    this.fields(path, value, [], ['uri', 'digest', 'content', 'name', 'downloadLocation', 'mediaType', 'annotations']);
    if (!('uri' in value) && !('digest' in value) && !('content' in value)) this.fail(path, 'needs at least one of uri, digest, content');
    if ('uri' in value) this.string(`${path}.uri`, value.uri, URI);
    if ('downloadLocation' in value) this.string(`${path}.downloadLocation`, value.downloadLocation, URI);
    if ('digest' in value) this.digest(`${path}.digest`, value.digest);
    if ('name' in value) this.string(`${path}.name`, value.name);
    if ('mediaType' in value) this.string(`${path}.mediaType`, value.mediaType);
    if ('content' in value) this.string(`${path}.content`, value.content, /^[A-Za-z0-9+/]*={0,2}$/);
    if ('annotations' in value) this.object(`${path}.annotations`, value.annotations);
  }
  descriptors(path: string, value: Json): void {
    if (!Array.isArray(value)) return this.fail(path, 'must be an array');
    value.forEach((item, i) => this.resourceDescriptor(`${path}[${i}]`, item));
  }
}

/** Problems found in a statement; empty when it conforms to both schemas. */
export function validateSlsaStatement(statement: Json): string[] {
  const c = new Checker();
  if (!c.object('statement', statement)) return c.problems;
  c.fields('statement', statement, ['_type', 'subject', 'predicateType', 'predicate'], []);
  if (statement._type !== 'https://in-toto.io/Statement/v1') c.fail('_type', 'must be https://in-toto.io/Statement/v1');
  if (!Array.isArray(statement.subject) || statement.subject.length === 0) {
    c.fail('subject', 'must be a non-empty array');
  } else {
    statement.subject.forEach((subject, i) => {
      c.resourceDescriptor(`subject[${i}]`, subject);
      if (isObject(subject) && !('digest' in subject)) c.fail(`subject[${i}]`, 'a subject must have a digest');
    });
  }
  c.string('predicateType', statement.predicateType, URI);
  if (statement.predicateType !== 'https://slsa.dev/provenance/v1') c.fail('predicateType', 'must be https://slsa.dev/provenance/v1');
  const predicate = statement.predicate;
  if (!c.object('predicate', predicate)) return c.problems;
  c.fields('predicate', predicate, ['buildDefinition', 'runDetails'], []);

  const def = predicate.buildDefinition;
  if (c.object('buildDefinition', def)) {
    c.fields('buildDefinition', def, ['buildType', 'externalParameters'], ['internalParameters', 'resolvedDependencies']);
    c.string('buildDefinition.buildType', def.buildType, URI);
    c.object('buildDefinition.externalParameters', def.externalParameters);
    if ('internalParameters' in def) c.object('buildDefinition.internalParameters', def.internalParameters);
    if ('resolvedDependencies' in def) c.descriptors('buildDefinition.resolvedDependencies', def.resolvedDependencies);
  }
  const run = predicate.runDetails;
  if (c.object('runDetails', run)) {
    c.fields('runDetails', run, ['builder'], ['metadata', 'byproducts']);
    if (c.object('runDetails.builder', run.builder)) {
      c.fields('runDetails.builder', run.builder, ['id'], ['version', 'builderDependencies']);
      c.string('runDetails.builder.id', run.builder.id, URI);
      if ('version' in run.builder) c.stringMap('runDetails.builder.version', run.builder.version);
      if ('builderDependencies' in run.builder) c.descriptors('runDetails.builder.builderDependencies', run.builder.builderDependencies);
    }
    if ('metadata' in run && c.object('runDetails.metadata', run.metadata)) {
      c.fields('runDetails.metadata', run.metadata, [], ['invocationId', 'startedOn', 'finishedOn']);
      if ('invocationId' in run.metadata) c.string('runDetails.metadata.invocationId', run.metadata.invocationId);
      if ('startedOn' in run.metadata) c.string('runDetails.metadata.startedOn', run.metadata.startedOn, RFC3339);
      if ('finishedOn' in run.metadata) c.string('runDetails.metadata.finishedOn', run.metadata.finishedOn, RFC3339);
    }
    if ('byproducts' in run) c.descriptors('runDetails.byproducts', run.byproducts);
  }
  return c.problems;
}
