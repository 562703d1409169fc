// A single-member etcd for the local test control plane: embedded etcd with
// the few flags a throwaway test store needs, plus the stdin watch that ties
// its life to the test process. Debian's etcd (3.4) is older than what
// kube-apiserver 1.34 supports, and no binary download is available here.
package main

import (
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
)

func main() {
	cfg := embed.NewConfig()
	name := flag.String("name", "testenv", "member name")
	dataDir := flag.String("data-dir", "", "data directory (required)")
	clientURLs := flag.String("listen-client-urls", "http://127.0.0.1:2379", "comma-separated client URLs")
	peerURLs := flag.String("listen-peer-urls", "http://127.0.0.1:2380", "comma-separated peer URLs; each test store needs its own port")
	logLevel := flag.String("log-level", "warn", "debug, info, warn or error")
	// A test store is thrown away, so fsync only costs time.
	noFsync := flag.Bool("unsafe-no-fsync", true, "skip fsync")
	flag.Parse()
	if *dataDir == "" {
		fatal("--data-dir is required")
	}

	clients := parseURLs("listen-client-urls", *clientURLs)
	peers := parseURLs("listen-peer-urls", *peerURLs)
	cfg.Name = *name
	cfg.Dir = *dataDir
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = clients, clients
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = peers, peers
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.LogLevel = *logLevel
	cfg.UnsafeNoFsync = *noFsync

	watchStdin()

	e, err := embed.StartEtcd(cfg)
	if err != nil {
		fatal("start: %v", err)
	}
	select {
	case <-e.Server.ReadyNotify():
		fmt.Fprintf(os.Stderr, "etcd ready on %s\n", *clientURLs)
	case <-time.After(60 * time.Second):
		e.Close()
		fatal("not ready after 60s")
	}

	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	select {
	case err := <-e.Err():
		e.Close()
		fatal("serve: %v", err)
	case <-signals:
		e.Close()
	}
}

// watchStdin ends the process when stdin closes and TESTENV_EXIT_ON_STDIN_EOF=1:
// the test process holds the write end of a pipe on our stdin, and the kernel
// closes it when that process dies, even by SIGKILL.
func watchStdin() {
	if os.Getenv("TESTENV_EXIT_ON_STDIN_EOF") != "1" {
		return
	}
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		fmt.Fprintln(os.Stderr, "etcd: stdin closed, the test process is gone; exiting")
		os.Exit(0)
	}()
}

func parseURLs(flagName, list string) []url.URL {
	var out []url.URL
	for _, s := range strings.Split(list, ",") {
		u, err := url.Parse(strings.TrimSpace(s))
		if err != nil {
			fatal("--%s: %v", flagName, err)
		}
		out = append(out, *u)
	}
	return out
}

func fatal(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "etcd: "+format+"\n", args...)
	os.Exit(1)
}
