package app

import "testing"

func TestGreeting(t *testing.T) {
	t.Run("says hello", func(t *testing.T) {
		if got := Greeting(); got != "hello, gophers" {
			t.Errorf("Greeting() = %q", got)
		}
	})
}
