// kubelet-stub answers the one part of a kubelet's API that Cluster API's
// KubeadmControlPlane reaches on an emulated machine: port-forward. The
// kube-apiserver proxies `pods/portforward` to
// https://<node InternalIP>:<kubelet port>/portForward/<namespace>/<pod>, and
// this serves it with the kubelet's own streaming code
// (k8s.io/kubelet/pkg/cri/streaming/portforward.ServePortForward: SPDY and
// websocket, as the kubelet negotiates them), dialling <target-host>:<port> for
// every forwarded stream, as the container runtime dials localhost in a
// hostNetwork Pod's network namespace. There are no Pods here: every Pod name
// is forwarded to the machine's address, which is where a static Pod of that
// machine would listen.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/types"
	remotecommandconsts "k8s.io/apimachinery/pkg/util/remotecommand"
	"k8s.io/kubelet/pkg/cri/streaming/portforward"

	"capmaas-testenv/kube/internal/stdinwatch"
)

// The kubelet's defaults: streamingConnectionIdleTimeout (KubeletConfiguration)
// and the CRI streaming server's stream creation timeout.
const (
	streamIdleTimeout     = 4 * time.Hour
	streamCreationTimeout = remotecommandconsts.DefaultStreamCreationTimeout
	// After one direction ends, how long the other may still drain (socat's -t default).
	halfCloseGrace = time.Second
)

func main() {
	address := flag.String("address", "0.0.0.0", "IP address to serve on (the machine's address)")
	port := flag.Int("port", 10250, "port to serve on")
	certFile := flag.String("tls-cert-file", "", "serving certificate (PEM, required)")
	keyFile := flag.String("tls-private-key-file", "", "serving key (PEM, required)")
	clientCAFile := flag.String("client-ca-file", "", "when set, port-forward requires a client certificate signed by this CA (the kubelet's x509 authentication)")
	targetHost := flag.String("target-host", "", "host every forwarded port is dialled on (the machine's address, required)")
	flag.Parse()
	for name, value := range map[string]string{"tls-cert-file": *certFile, "tls-private-key-file": *keyFile, "target-host": *targetHost} {
		if value == "" {
			fatal("--%s is required", name)
		}
	}
	if *port < 1 || *port > 65535 {
		fatal("--port %d is not a TCP port", *port)
	}

	stdinwatch.Start("kubelet-stub")

	cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
	if err != nil {
		fatal("--tls-cert-file/--tls-private-key-file: %v", err)
	}
	tlsConfig := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	requireClientCert := *clientCAFile != ""
	if requireClientCert {
		pem, err := os.ReadFile(*clientCAFile)
		if err != nil {
			fatal("--client-ca-file: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			fatal("--client-ca-file %s holds no PEM certificate", *clientCAFile)
		}
		// Verified when given, so /healthz still answers without one.
		tlsConfig.ClientCAs = pool
		tlsConfig.ClientAuth = tls.VerifyClientCertIfGiven
	}

	forwarder := &dialForwarder{host: *targetHost, source: sourceAddr(*targetHost)}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok"))
	})
	servePortForward := func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodGet && req.Method != http.MethodPost {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if requireClientCert && (req.TLS == nil || len(req.TLS.VerifiedChains) == 0) {
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		opts, err := portforward.NewV4Options(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		pod := req.PathValue("pod")
		fmt.Fprintf(os.Stderr, "kubelet-stub: port-forward to %s/%s from %s\n", req.PathValue("namespace"), pod, req.RemoteAddr)
		portforward.ServePortForward(w, req, forwarder, pod, types.UID(req.PathValue("uid")), opts,
			streamIdleTimeout, streamCreationTimeout, portforward.SupportedProtocols)
	}
	// The kubelet's routes (pkg/kubelet/server/server.go, InstallDebuggingHandlers).
	mux.HandleFunc("/portForward/{namespace}/{pod}", servePortForward)
	mux.HandleFunc("/portForward/{namespace}/{pod}/{uid}", servePortForward)

	listenAddr := net.JoinHostPort(*address, strconv.Itoa(*port))
	listener, err := tls.Listen("tcp", listenAddr, tlsConfig)
	if err != nil {
		fatal("listen on %s: %v", listenAddr, err)
	}
	// SPDY and websocket upgrades need HTTP/1.1; an empty TLSNextProto keeps HTTP/2 off.
	server := &http.Server{Handler: mux, ReadHeaderTimeout: 30 * time.Second, TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){}}
	fmt.Fprintf(os.Stderr, "kubelet-stub: serving https://%s, forwarding to %s\n", listenAddr, *targetHost)
	if err := server.Serve(listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fatal("serve: %v", err)
	}
}

// dialForwarder is the container runtime's side of port-forward
// (containerd's PortForward: dial, copy both ways, stop when one direction
// ends and the other has drained or a grace has passed).
type dialForwarder struct {
	host   string
	source *net.TCPAddr
}

// The caller (the kubelet's stream handler) closes the stream and reports a
// returned error to the client.
func (f *dialForwarder) PortForward(ctx context.Context, _ string, _ types.UID, port int32, stream io.ReadWriteCloser) error {
	dialer := net.Dialer{Timeout: 10 * time.Second}
	if f.source != nil {
		dialer.LocalAddr = f.source
	}
	target := net.JoinHostPort(f.host, strconv.Itoa(int(port)))
	conn, err := dialer.DialContext(ctx, "tcp", target)
	if err != nil {
		return err
	}
	defer conn.Close()

	done := make(chan error, 2)
	go func() {
		_, err := io.Copy(stream, conn)
		done <- err
	}()
	go func() {
		_, err := io.Copy(conn, stream)
		// The client finished sending: pass the half-close on, as a socket would.
		if tcp, ok := conn.(*net.TCPConn); ok {
			_ = tcp.CloseWrite()
		}
		done <- err
	}()
	var first error
	select {
	case first = <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-done:
		if first == nil {
			first = err
		}
	case <-time.After(halfCloseGrace):
	case <-ctx.Done():
		first = ctx.Err()
	}
	return first
}

// sourceAddr makes forwarded connections come from the machine's own address
// when it is an IP, as a connection made on that machine to itself would: a
// server that checks its peers' certificate SANs against the remote address
// (etcd does) then sees the machine, not 127.0.0.1.
func sourceAddr(host string) *net.TCPAddr {
	ip := net.ParseIP(host)
	if ip == nil || ip.IsUnspecified() {
		return nil
	}
	return &net.TCPAddr{IP: ip}
}

func fatal(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "kubelet-stub: "+format+"\n", args...)
	os.Exit(1)
}
