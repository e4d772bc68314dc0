package origin

import (
	"context"
	"fmt"
)

// Ready checks that the stores the origin needs answer: the catalog (a
// read through its leader) and the blob store. The error names the one
// that does not, for a readiness probe.
func (s *Server) Ready(ctx context.Context) error {
	if err := s.assets.Ping(ctx); err != nil {
		return fmt.Errorf("catalog (NATS JetStream): %w", err)
	}
	if err := s.blobs.Ping(ctx); err != nil {
		return fmt.Errorf("blob store: %w", err)
	}
	return nil
}
