// etcd as upstream's binary builds it (go.etcd.io/etcd/server/v3/etcdmain),
// so every real flag works — client and peer TLS, --initial-cluster,
// --advertise-client-urls — for the test control plane and for the etcd
// members of emulated kubeadm machines alike; plus the stdin watch that ties
// its life to the process that started it. Debian's etcd (3.4) is older than
// what kube-apiserver 1.34 supports, and no binary download is available here.
package main

import (
	"fmt"
	"io"
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	watchStdin()
	etcdmain.Main(os.Args)
}

// watchStdin ends the process when stdin closes and TESTENV_EXIT_ON_STDIN_EOF=1:
// the starting process holds the write end of a pipe on our stdin, and the
// kernel closes it when that process dies, even by SIGKILL. (The kube module's
// internal/stdinwatch does the same; this module cannot import it.)
func watchStdin() {
	if os.Getenv("TESTENV_EXIT_ON_STDIN_EOF") != "1" {
		return
	}
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		fmt.Fprintln(os.Stderr, "etcd: stdin closed, the starting process is gone; exiting")
		os.Exit(0)
	}()
}
