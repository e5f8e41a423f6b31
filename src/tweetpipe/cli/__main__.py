from tweetpipe.cli import main

main()
