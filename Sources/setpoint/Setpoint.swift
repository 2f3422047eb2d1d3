import SetpointCLI

@main struct Main { static func main() async { await SetpointCLI.main() } }
