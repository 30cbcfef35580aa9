/**
 * sign_verity: with a key and certificate in config, the root hash is signed
 * as systemd expects it in a verity signature partition: a JSON object with
 * `rootHash`, `certificateFingerprint` (SHA-256 of the DER certificate) and
 * `signature` (base64 DER PKCS#7, detached, over the hex root hash).
 * Signed attributes are left out (-noattr): they would carry the signing time.
 * With an RSA key the signature is then deterministic; ECDSA signatures are not.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { StrataError } from '../../util/errors.js';
import { sha256Hex } from '../../util/hash.js';
import { run } from '../../util/process.js';
import { toolEnv, type ComposeStep } from '../context.js';

export const signVerity: ComposeStep = {
  name: 'sign_verity',
  applies: (context) => context.image.verity && context.image.signing !== null,
  async run(context) {
    const signing = context.image.signing!;
    const verity = context.verity!;
    const key = resolve(context.model.root, signing.key);
    const certificate = resolve(context.model.root, signing.certificate);
    const derFile = join(context.workDir, 'certificate.der');
    await run('openssl', ['x509', '-in', certificate, '-outform', 'DER', '-out', derFile], { env: toolEnv(context), signal: context.signal }).catch((error: unknown) => {
      throw new StrataError(`image ${context.image.name}: cannot read the signing certificate ${certificate}`, {
        location: context.image.definedAt,
        cause: error,
        hint: 'signing.certificate must be a PEM X.509 certificate',
      });
    });
    const certificateFingerprint = sha256Hex(await readFile(derFile));
    const payload = join(context.workDir, 'roothash.txt');
    await writeFile(payload, verity.rootHash);
    const signature = join(context.workDir, 'roothash.p7s');
    await run('openssl', ['smime', '-sign', '-in', payload, '-inkey', key, '-signer', certificate, '-noattr', '-binary', '-nocerts', '-outform', 'DER', '-out', signature], {
      env: toolEnv(context),
      signal: context.signal,
    });
    const file = `${context.image.layout}.verity-sig`;
    const json = { rootHash: verity.rootHash, certificateFingerprint, signature: (await readFile(signature)).toString('base64') };
    await writeFile(join(context.outDir, file), `${JSON.stringify(json)}\n`);
    context.log.info(`  signed the root hash with certificate ${certificateFingerprint.slice(0, 16)}…`);
    return { ...context, signature: { file, certificateFingerprint } };
  },
};
