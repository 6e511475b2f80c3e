// Private key files: written with mode 0600, never silently overwritten,
// read back with a check that they hold a signer key.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { KEY_TYPE_COSIGNATURE_V1, parseSignerKey, signerKeyType, type Ed25519Signer } from '../note/index.js';
import { makeDirSync, STATE_DIR_MODE } from '../storage/make-dir.js';
import { CliError } from './common.js';

/** Writes skey to file (mode 0600); refuses an existing file unless force. */
export function writeKeyFile(file: string, skey: string, force: boolean): void {
  makeDirSync(path.dirname(path.resolve(file)), STATE_DIR_MODE); // a directory made for a key is private
  const flags = force ? 'w' : 'wx';
  let fd: number;
  try {
    fd = fs.openSync(file, flags, 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new CliError(`${file} already exists; refusing to overwrite a key (use --force, or pick another --out)`);
    }
    throw err;
  }
  try {
    fs.writeFileSync(fd, `${skey}\n`);
    fs.fchmodSync(fd, 0o600); // also when --force reused a file with looser permissions
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Reads a log signer key file (one line, `PRIVATE+KEY+...`). A witness key
 * (type 0x04, from 'tilelog witness keygen') is refused: a log signs with a
 * key of its own, named for its origin.
 */
export function readKeyFile(file: string): Ed25519Signer {
  const createWith = `tilelog keygen --origin <origin> --out ${file}`;
  return readPrivateKeyFile(
    file,
    (skey) => {
      if (signerKeyType(skey) === KEY_TYPE_COSIGNATURE_V1) {
        throw new CliError(
          `${file} is a witness cosigner key (type 0x04, from 'tilelog witness keygen'), not a log key; ` +
            `a log signs with a key of its own named for its origin: make one with '${createWith.replace(` --out ${file}`, ' --out <file>')}' ` +
            `(or leave out --key to use <state>/log.key)`,
        );
      }
      return parseSignerKey(skey);
    },
    createWith,
  );
}

/**
 * Reads a one-line private key file and parses it with parse; the errors name
 * the file and, when it is missing, the command that creates one.
 */
export function readPrivateKeyFile<K>(file: string, parse: (skey: string) => K, createWith: string): K {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new CliError(`key file ${file} does not exist; create one with '${createWith}'`);
    }
    throw err;
  }
  try {
    return parse(text.trim());
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`${file} does not hold a valid signer key (PRIVATE+KEY+...): ${(err as Error).message}`);
  }
}
