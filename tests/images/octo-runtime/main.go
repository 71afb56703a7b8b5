// The local stand-in for the Octo runtime: what a pod of an integration does, minus the flows.
//
// With HTTP_PORT it serves on HTTP_HOST:HTTP_PORT: GET /healthz answers 200, GET / answers JSON with the
// integration files under /etc/octo/integrations (name and sha256), the hostname (the pod name) and the
// names of the environment variables (never their values: secrets arrive as env). Without HTTP_PORT it is
// a worker: it logs the files it found and sleeps. SIGTERM ends either at once with exit code 0.
//
// OCTO_RUNTIME_CRASH=1 exits 1 after a second, every time. OCTO_RUNTIME_FLAKY=1 does that only on its
// first start in a pod: it leaves a marker in /dev/shm, which every container of a pod shares with the
// pod sandbox (containerd's CRI mounts the sandbox's shm there), so a restarted container finds it and
// serves; a new pod starts without it and crashes once again.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

const (
	integrationsDir = "/etc/octo/integrations"
	flakyMarker     = "/dev/shm/octo-runtime-crashed-once"
)

type integrationFile struct {
	Name   string `json:"name"`
	Sha256 string `json:"sha256"`
}

type report struct {
	Hostname     string            `json:"hostname"`
	Integrations []integrationFile `json:"integrations"`
	Env          []string          `json:"env"`
}

// integrationFiles lists the regular files of the integrations directory, following the ConfigMap
// volume's symlinks and skipping its hidden ..data entries.
func integrationFiles() []integrationFile {
	found := []integrationFile{}
	entries, err := os.ReadDir(integrationsDir)
	if err != nil {
		return found
	}
	for _, entry := range entries {
		if strings.HasPrefix(entry.Name(), ".") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(integrationsDir, entry.Name()))
		if err != nil {
			continue
		}
		sum := sha256.Sum256(data)
		found = append(found, integrationFile{Name: entry.Name(), Sha256: hex.EncodeToString(sum[:])})
	}
	return found
}

// envNames lists the names of the environment variables, sorted; values are never read out.
func envNames() []string {
	names := []string{}
	for _, entry := range os.Environ() {
		names = append(names, strings.SplitN(entry, "=", 2)[0])
	}
	sort.Strings(names)
	return names
}

func currentReport() report {
	hostname, _ := os.Hostname()
	return report{Hostname: hostname, Integrations: integrationFiles(), Env: envNames()}
}

func handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(currentReport())
	})
	return mux
}

// crashIfAsked exits 1 after a second when the image asks for a crash (always, or once per pod).
func crashIfAsked() {
	crash := os.Getenv("OCTO_RUNTIME_CRASH") == "1"
	if os.Getenv("OCTO_RUNTIME_FLAKY") == "1" {
		if _, err := os.Stat(flakyMarker); os.IsNotExist(err) {
			crash = os.WriteFile(flakyMarker, []byte("crashed\n"), 0o644) == nil
		}
	}
	if crash {
		time.Sleep(time.Second)
		log.Print("octo-runtime: crashing as asked (exit 1)")
		os.Exit(1)
	}
}

func main() {
	log.SetFlags(0)
	crashIfAsked()
	stop, cancel := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer cancel()
	for _, file := range integrationFiles() {
		log.Printf("octo-runtime: integration %s sha256 %s", file.Name, file.Sha256)
	}
	port := os.Getenv("HTTP_PORT")
	if port == "" {
		log.Print("octo-runtime: worker running (no HTTP_PORT)")
		<-stop.Done()
	} else if err := serve(stop, net.JoinHostPort(os.Getenv("HTTP_HOST"), port)); err != nil {
		log.Fatalf("octo-runtime: %v", err)
	}
	log.Print("octo-runtime: SIGTERM received, exiting")
}

func serve(stop context.Context, address string) error {
	server := &http.Server{Addr: address, Handler: handler(), ReadHeaderTimeout: 5 * time.Second}
	listener, err := net.Listen("tcp", address)
	if err != nil {
		return err
	}
	log.Printf("octo-runtime: serving on %s", listener.Addr())
	go func() {
		<-stop.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		server.Shutdown(shutdown)
	}()
	if err := server.Serve(listener); err != http.ErrServerClosed {
		return err
	}
	return nil
}
