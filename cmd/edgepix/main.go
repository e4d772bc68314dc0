// Command edgepix runs the edgepix image service. `edgepix serve` starts the
// origin API and the delivery edge in one process with embedded storage.
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/edgepix/edgepix/internal/app"
	"github.com/edgepix/edgepix/origin"
)

func main() {
	if len(os.Args) < 2 || os.Args[1] != "serve" {
		fmt.Fprintln(os.Stderr, "usage: edgepix serve [flags]   (edgepix serve -h lists the flags)")
		os.Exit(2)
	}
	if err := serve(os.Args[2:]); err != nil {
		fmt.Fprintln(os.Stderr, "edgepix:", err)
		os.Exit(1)
	}
}

// env returns EDGEPIX_<NAME> or def.
func env(name, def string) string {
	if v, ok := os.LookupEnv("EDGEPIX_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))); ok {
		return v
	}
	return def
}

func envInt(name string, def int64) int64 {
	v, err := strconv.ParseInt(env(name, strconv.FormatInt(def, 10)), 10, 64)
	if err != nil {
		return def
	}
	return v
}

func envBool(name string) bool {
	v, _ := strconv.ParseBool(env(name, "false"))
	return v
}

func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var cfg app.Config
	fs.StringVar(&cfg.DataDir, "data", env("data", "./edgepix-data"), "data directory")
	fs.StringVar(&cfg.EdgeAddr, "edge-addr", env("edge-addr", "127.0.0.1:8080"), "edge listen address")
	fs.StringVar(&cfg.OriginAddr, "origin-addr", env("origin-addr", "127.0.0.1:8081"), "origin (API) listen address")
	fs.StringVar(&cfg.PublicURL, "public-url", env("public-url", ""), "base of url/secure_url (default http://<edge-addr>)")
	fs.BoolVar(&cfg.AllowPrivateFetch, "allow-private-fetch", envBool("allow-private-fetch"), "allow remote file URLs on private/loopback addresses")
	fs.Int64Var(&cfg.CacheSize, "cache-size", envInt("cache-size", 256<<20), "edge memory cache bound in bytes")
	fs.Int64Var(&cfg.MaxUploadBytes, "max-upload-bytes", envInt("max-upload-bytes", 100<<20), "largest accepted upload")
	fs.Int64Var(&cfg.MaxPixels, "max-pixels", envInt("max-pixels", 100_000_000), "largest accepted image, in pixels")
	fs.BoolVar(&cfg.Strict, "strict", envBool("strict"), "serve only signed URLs and named transformations")
	fs.StringVar(&cfg.NATSURL, "nats", env("nats", ""), "external NATS URL (default: embedded server)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	if u := os.Getenv("CLOUDINARY_URL"); u != "" {
		a, err := origin.ParseCloudinaryURL(u)
		if err != nil {
			return err
		}
		cfg.Accounts = []origin.Account{a}
	}
	a, err := app.Start(cfg, log)
	if err != nil {
		return err
	}
	fmt.Printf("edgepix is running\n  edge (delivery): %s\n  origin (API):    %s\n", a.EdgeURL, a.OriginURL)
	for _, acct := range a.Accounts {
		fmt.Printf("  export CLOUDINARY_URL=%s\n", acct.URL(a.OriginURL))
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	select {
	case s := <-sig:
		log.Info("shutting down", "signal", s.String())
	case err := <-a.Done():
		log.Error("server stopped", "err", err)
	}
	return a.Close()
}
