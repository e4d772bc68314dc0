// Package wire is the edge↔origin internal protocol: the paths of the
// origin's /internal endpoints and the headers both sides read. Paths are
// built from parsed, validated parts only (never from strings a client
// sent), and the origin checks each request's cloud against its path.
package wire

import "github.com/edgepix/edgepix/transform/grammar"

// Headers of internal requests.
const (
	TokenHeader = "X-Edgepix-Token" // the derive token: the caller is an edge
	CloudHeader = "X-Edgepix-Cloud" // the cloud the delivery is for
	// DeadlineHeader is when the edge stops waiting (Unix milliseconds):
	// the origin's work stops then too.
	DeadlineHeader = "X-Edgepix-Deadline"
	// ClientHeader is the delivery's client address: the origin shares
	// render capacity fairly between clients.
	ClientHeader = "X-Edgepix-Client"
)

// DerivePath is the path (unescaped) of the derived file for p in cloud.
func DerivePath(cloud string, p *grammar.Path) string {
	return "/internal/derive/" + cloud + "/" + p.String()
}

// AssetPath is the path of an asset's metadata; typ "any" finds a plugin
// stored as authenticated or upload. id must have passed
// grammar.CheckPublicID, rt and typ are the caller's constants.
func AssetPath(cloud, rt, typ, id string) string {
	return "/internal/asset/" + cloud + "/" + rt + "/" + typ + "/" + id
}
