// kube-apiserver as upstream's cmd/kube-apiserver builds it, plus the stdin
// watch that ties its life to the test process.
package main

import (
	"os"
	_ "time/tzdata" // CronJob time zones, as upstream embeds them

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"

	"capmaas-testenv/kube/internal/stdinwatch"
)

func main() {
	stdinwatch.Start("kube-apiserver")
	os.Exit(cli.Run(app.NewAPIServerCommand()))
}
