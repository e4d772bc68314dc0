// Package origin is edgepix's Cloudinary-compatible API server: uploads,
// asset metadata and the internal derive endpoint that edges call on a miss.
package origin

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/edgepix/edgepix/plugins"
)

// Account is one cloud with its API credentials.
type Account struct {
	Cloud     string `json:"cloud"`
	APIKey    string `json:"api_key"`
	APISecret string `json:"api_secret"`
	// SignatureAlgorithm is "sha1" (default) or "sha256" for notifications.
	SignatureAlgorithm string `json:"signature_algorithm,omitempty"`
	// NotificationURL receives the account's notifications when a request
	// names none (CLOUDINARY_URL query parameter notification_url).
	NotificationURL string `json:"notification_url,omitempty"`
	// Plugin limits (0: the defaults, 128 MiB and 2 s); CLOUDINARY_URL
	// query parameters plugin_memory_mb, plugin_timeout_ms and
	// plugin_cpu_ms (CPU time per call in a plugin worker).
	PluginMemoryMB  int `json:"plugin_memory_mb,omitempty"`
	PluginTimeoutMS int `json:"plugin_timeout_ms,omitempty"`
	PluginCPUMS     int `json:"plugin_cpu_ms,omitempty"`
	// FetchDomains, when set, are the only hosts (and their subdomains)
	// /image/fetch/ may read from (query parameter fetch_domains=a.com,b.com).
	FetchDomains []string `json:"fetch_domains,omitempty"`
}

// PluginLimits returns the account's limits for fn_wasm plugins.
func (a Account) PluginLimits() plugins.Limits {
	return plugins.Limits{MemoryBytes: int64(a.PluginMemoryMB) << 20,
		Timeout: time.Duration(a.PluginTimeoutMS) * time.Millisecond, CPUTime: time.Duration(a.PluginCPUMS) * time.Millisecond}
}

// URL renders the account as a CLOUDINARY_URL pointing at apiBase.
func (a Account) URL(apiBase string) string {
	return fmt.Sprintf("cloudinary://%s:%s@%s?upload_prefix=%s", a.APIKey, a.APISecret, a.Cloud, apiBase)
}

// ParseCloudinaryURL reads cloudinary://KEY:SECRET@CLOUD[?...].
func ParseCloudinaryURL(s string) (Account, error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "cloudinary" || u.User == nil || u.Host == "" {
		return Account{}, errors.New("CLOUDINARY_URL must look like cloudinary://KEY:SECRET@CLOUD")
	}
	secret, _ := u.User.Password()
	a := Account{Cloud: u.Host, APIKey: u.User.Username(), APISecret: secret}
	if alg := u.Query().Get("signature_algorithm"); alg != "" {
		a.SignatureAlgorithm = alg
	}
	a.NotificationURL = u.Query().Get("notification_url")
	a.PluginMemoryMB, _ = strconv.Atoi(u.Query().Get("plugin_memory_mb"))
	a.PluginTimeoutMS, _ = strconv.Atoi(u.Query().Get("plugin_timeout_ms"))
	a.PluginCPUMS, _ = strconv.Atoi(u.Query().Get("plugin_cpu_ms"))
	if d := u.Query().Get("fetch_domains"); d != "" {
		a.FetchDomains = strings.Split(d, ",")
	}
	if !validName(a.Cloud) {
		return Account{}, fmt.Errorf("cloud name %q: use letters, digits, _ and -", a.Cloud)
	}
	if a.APIKey == "" || a.APISecret == "" {
		return Account{}, errors.New("CLOUDINARY_URL needs both an API key and a secret")
	}
	return a, nil
}

// DemoAccount loads the "demo" account kept in dataDir, creating it with a
// random key and secret on first use.
func DemoAccount(dataDir string) (Account, error) {
	path := filepath.Join(dataDir, "demo-account.json")
	if b, err := os.ReadFile(path); err == nil {
		var a Account
		if err := json.Unmarshal(b, &a); err != nil {
			return Account{}, fmt.Errorf("%s: %w", path, err)
		}
		return a, nil
	}
	key := make([]byte, 8)
	secret := make([]byte, 20)
	rand.Read(key)
	rand.Read(secret)
	digits := strings.Map(func(r rune) rune { return '0' + r%10 }, hex.EncodeToString(key))
	a := Account{Cloud: "demo", APIKey: digits[:15], APISecret: hex.EncodeToString(secret)}
	b, _ := json.MarshalIndent(a, "", "  ")
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return Account{}, err
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return Account{}, err
	}
	return a, nil
}
