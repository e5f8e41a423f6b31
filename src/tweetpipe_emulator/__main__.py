from tweetpipe_emulator.cli import main

main()
