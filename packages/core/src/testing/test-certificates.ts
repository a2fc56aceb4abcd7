import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

/**
 * A test CA, a server certificate it signed (for `localhost` and 127.0.0.1), a client certificate
 * it signed (for servers that require one), and an unrelated CA.
 */
export interface TestCertificates {
  dir: string;
  /** PEM paths: the CA, the server's certificate and key, another CA that signed nothing here. */
  caFile: string;
  certFile: string;
  keyFile: string;
  otherCaFile: string;
  /** PEM contents of `caFile` and `otherCaFile`. */
  ca: string;
  otherCa: string;
  /** PEM contents of the client's certificate and key. */
  clientCert: string;
  clientKey: string;
  /** Removes the directory. */
  remove(): void;
}

function openssl(dir: string, args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: "ignore", timeout: 60_000 });
}

/**
 * Creates a throwaway CA, a server certificate (subjectAltName `DNS:localhost, IP:127.0.0.1`) and
 * a client certificate for TLS tests with `openssl` (2 days, RSA 2048), in a new temp dir.
 */
export function createTestCertificates(): TestCertificates {
  const dir = mkdtempSync(path.join(tmpdir(), "dq-test-certs-"));
  // A new RSA key in `<name>.key` and a request for `/CN=<cn>` written to `out`.
  const request = (name: string, cn: string, out: string, ...more: string[]) =>
    openssl(dir, [
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      `${name}.key`,
      "-out",
      out,
      "-subj",
      `/CN=${cn}`,
      ...more,
    ]);
  // A CA: the request self-signed (`-x509`).
  const newCa = (name: string, cn: string) =>
    request(name, cn, `${name}.crt`, "-x509", "-days", "2");
  newCa("ca", "dq test CA");
  newCa("other-ca", "dq other CA");
  const newLeaf = (name: string, cn: string, extensions: string) => {
    request(name, cn, `${name}.csr`);
    writeFileSync(path.join(dir, `${name}.cnf`), `${extensions}\n`);
    openssl(dir, [
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.crt",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      `${name}.crt`,
      "-days",
      "2",
      "-extfile",
      `${name}.cnf`,
    ]);
  };
  newLeaf("server", "localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1");
  newLeaf("client", "dq test client", "extendedKeyUsage=clientAuth");
  const file = (name: string) => path.join(dir, name);
  return {
    dir,
    caFile: file("ca.crt"),
    certFile: file("server.crt"),
    keyFile: file("server.key"),
    otherCaFile: file("other-ca.crt"),
    ca: readFileSync(file("ca.crt"), "utf8"),
    otherCa: readFileSync(file("other-ca.crt"), "utf8"),
    clientCert: readFileSync(file("client.crt"), "utf8"),
    clientKey: readFileSync(file("client.key"), "utf8"),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
