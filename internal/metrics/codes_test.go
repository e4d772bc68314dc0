package metrics

import (
	"testing"

	dto "github.com/prometheus/client_model/go"
)

// Counts land in the series of their code, out-of-range codes included,
// and counting a known code allocates nothing.
func TestCodesCountByCode(t *testing.T) {
	m := New()
	c := m.RequestCodes("edge")
	for range 3 {
		c.Inc(200)
	}
	c.Inc(404)
	c.Inc(999)
	for code, want := range map[string]float64{"200": 3, "404": 1, "999": 1, "500": 0} {
		if got := value(t, m, code); got != want {
			t.Errorf("code %s: %v, want %v", code, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { c.Inc(200) }); n != 0 {
		t.Errorf("Inc(200) allocates %v times", n)
	}
}

func value(t *testing.T, m *Metrics, code string) float64 {
	var pb dto.Metric
	if err := m.Requests.WithLabelValues("edge", code).Write(&pb); err != nil {
		t.Fatal(err)
	}
	return pb.GetCounter().GetValue()
}
