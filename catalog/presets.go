package catalog

import (
	"context"

	"github.com/nats-io/nats.go/jetstream"
)

// Preset is an upload preset: settings applied to the uploads that name
// it; an unsigned one lets browsers upload without the API secret.
type Preset struct {
	Name     string            `json:"name"`
	Unsigned bool              `json:"unsigned"`
	Settings map[string]string `json:"settings"`
}

// PresetStore keeps presets in the "presets" bucket.
type PresetStore struct{ kvJSON[Preset] }

// NewPresetStore opens (or creates) the bucket.
func NewPresetStore(ctx context.Context, js jetstream.JetStream, o Options) (*PresetStore, error) {
	kv, err := bucket(ctx, js, o, "presets", 0)
	if err != nil {
		return nil, err
	}
	return &PresetStore{kvJSON[Preset]{kv}}, nil
}

// Put stores a preset under its name.
func (s *PresetStore) Put(ctx context.Context, cloud string, p *Preset) error {
	return s.put(ctx, cloud, p.Name, p)
}
