package app

import "example.com/lib"

// Greeting greets the Go community.
func Greeting() string {
	return lib.Hello("gophers")
}
