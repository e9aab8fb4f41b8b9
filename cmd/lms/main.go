// Command lms is the family-advocacy learning and compliance service.
//
//	lms serve                      serve the web application
//	lms courses validate [DIR]     check a course catalogue
//	lms users create ...           create an account (e.g. the first admin)
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/family-advocacy/lms/internal/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := app.Run(ctx, app.Env{Args: os.Args[1:], Getenv: os.Getenv, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "lms:", err)
		os.Exit(app.ExitCode(err))
	}
}
