import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ProxyConfigError, proxyFor } from "./proxy-env.ts";

const PROXY = "http://proxy.test:3128";

describe("proxyFor: the proxy a Kubernetes API server is reached through, as Go's httpproxy decides", () => {
  const cases: Array<{ name: string; server: string; env: Record<string, string>; proxy: string | undefined }> = [
    { name: "no proxy variable: direct", server: "https://w.maas:6443", env: {}, proxy: undefined },
    { name: "HTTPS_PROXY for an https server", server: "https://w.maas:6443", env: { HTTPS_PROXY: PROXY }, proxy: `${PROXY}/` },
    { name: "https_proxy in lower case", server: "https://w.maas:6443", env: { https_proxy: PROXY }, proxy: `${PROXY}/` },
    { name: "HTTP_PROXY is not for https servers", server: "https://w.maas:6443", env: { HTTP_PROXY: PROXY }, proxy: undefined },
    { name: "a proxy without a scheme is http://", server: "https://w.maas:6443", env: { HTTPS_PROXY: "proxy.test:3128" }, proxy: `${PROXY}/` },
    { name: "loopback addresses are never proxied", server: "https://127.0.0.1:6443", env: { HTTPS_PROXY: PROXY }, proxy: undefined },
    { name: "any 127/8 address is loopback", server: "https://127.10.0.12:6443", env: { HTTPS_PROXY: PROXY }, proxy: undefined },
    { name: "localhost is never proxied", server: "https://localhost:6443", env: { HTTPS_PROXY: PROXY }, proxy: undefined },
    { name: "[::1] is never proxied", server: "https://[::1]:6443", env: { HTTPS_PROXY: PROXY }, proxy: undefined },
    { name: "NO_PROXY=* turns it off", server: "https://w.maas:6443", env: { HTTPS_PROXY: PROXY, NO_PROXY: "*" }, proxy: undefined },
    { name: "NO_PROXY name matches itself", server: "https://maas:6443", env: { HTTPS_PROXY: PROXY, NO_PROXY: "maas" }, proxy: undefined },
    { name: "NO_PROXY name matches its subdomains", server: "https://w.maas:6443", env: { HTTPS_PROXY: PROXY, NO_PROXY: "other, maas" }, proxy: undefined },
    { name: "NO_PROXY name does not match a longer label", server: "https://w.notmaas:6443", env: { HTTPS_PROXY: PROXY, NO_PROXY: "maas" }, proxy: `${PROXY}/` },
    { name: "NO_PROXY .name matches subdomains only", server: "https://maas:6443", env: { HTTPS_PROXY: PROXY, NO_PROXY: ".maas" }, proxy: `${PROXY}/` },
    { name: "NO_PROXY with the port that matches", server: "https://w.maas:6443", env: { HTTPS_PROXY: PROXY, NO_PROXY: "w.maas:6443" }, proxy: undefined },
    { name: "NO_PROXY with another port", server: "https://w.maas:6443", env: { HTTPS_PROXY: PROXY, NO_PROXY: "w.maas:443" }, proxy: `${PROXY}/` },
    { name: "NO_PROXY CIDR holding the address", server: "https://10.20.0.5:6443", env: { HTTPS_PROXY: PROXY, NO_PROXY: "10.20.0.0/16" }, proxy: undefined },
    { name: "NO_PROXY CIDR not holding it", server: "https://10.21.0.5:6443", env: { HTTPS_PROXY: PROXY, NO_PROXY: "10.20.0.0/16" }, proxy: `${PROXY}/` },
    { name: "no_proxy in lower case", server: "https://w.maas:6443", env: { HTTPS_PROXY: PROXY, no_proxy: "w.maas" }, proxy: undefined },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.equal(proxyFor(new URL(c.server), c.env)?.href, c.proxy);
    });
  }

  it("takes the kubeconfig cluster's proxy-url over the environment and NO_PROXY", () => {
    assert.equal(proxyFor(new URL("https://w.maas:6443"), { HTTPS_PROXY: PROXY, NO_PROXY: "*" }, "http://other.test:8080")?.href, "http://other.test:8080/");
  });

  it("refuses a proxy it cannot tunnel through, naming the variable and the fix", () => {
    assert.throws(() => proxyFor(new URL("https://w.maas:6443"), { HTTPS_PROXY: "socks5://proxy.test:1080" }), (err: unknown) => {
      assert.ok(err instanceof ProxyConfigError);
      assert.match(err.message, /HTTPS_PROXY socks5:\/\/proxy\.test:1080: only http:\/\/ proxies \(HTTP CONNECT\) are supported; give http:\/\/host:port/);
      return true;
    });
  });
});
